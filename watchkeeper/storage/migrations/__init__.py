"""One module per migration: m<NNNN>_<name>.py with statements(ctx). See storage/schema.py."""
