"""The async shells: the only code that awaits, opens sockets or reads a clock."""
