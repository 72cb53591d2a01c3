"""Personal fine-tuning (record or import data, fine-tune, measure); arrives with issue 7."""
