"""Input declarations (pydantic v2): training input, MD input; one-line errors, generated key docs."""
