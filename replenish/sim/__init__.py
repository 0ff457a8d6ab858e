"""The simulated town (the simulation issue): people whose true use the planner never
sees, answering texts the way people do. So far: ``people``."""
