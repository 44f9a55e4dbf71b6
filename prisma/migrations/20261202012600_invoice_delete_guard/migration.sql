-- A final invoice cannot be deleted either (the scheduler would write it again, from use found since, and
-- the bill the customer saw would change). Only deleting its organization removes it: that DELETE comes from
-- the foreign key's cascade, itself a trigger, so this one runs nested (depth above 1) then.
CREATE FUNCTION "invoice_is_kept"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() > 1 THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'invoice % is final and cannot be deleted (only with its organization)', OLD.id USING ERRCODE = 'check_violation';
END;
$$;

CREATE TRIGGER "Invoice_is_kept" BEFORE DELETE ON "Invoice" FOR EACH ROW EXECUTE FUNCTION "invoice_is_kept"();
