"""Demo: `manage.py demo`, the one command that sets up and runs jobsite against the simulator."""
