"""The `watchkeeper` command. Each cmd_<name>.py module contributes one click group or command."""
