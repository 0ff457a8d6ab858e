"""replenish: proactive replenishment scheduler."""
