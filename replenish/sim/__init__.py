"""The simulated town and the IRP yardstick: ``people`` (households whose true use the
planner never sees, answering texts the way people do), ``town`` (their tanks),
``setup`` (registering them in a fresh database), ``drive`` (a year of them through the
real system: ``replenish simulate``), ``report``; ``irp*`` (replenish's planner and
router on the inventory-routing benchmark)."""
