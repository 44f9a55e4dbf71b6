// st_dev as the kernel names a device in /proc and /sys: major and minor number (glibc's encoding of dev_t).

export interface DeviceNumbers {
  major: number;
  minor: number;
}

export function deviceNumbers(dev: number): DeviceNumbers {
  // Bits of dev_t above 32 (majors and minors beyond 4095 and 1M) do not occur for local disks and loops.
  return { major: Math.floor(dev / 256) & 0xfff, minor: (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00) };
}
