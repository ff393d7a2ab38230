"""Seed step: build the dashboard's roll-ups once the demo cases exist."""
from xiaoneng.orgs.seed import register_seed_step


def rollups(scale, progress):
    from .stats import refresh

    run = refresh(full=True, progress=lambda done, total, note="": progress(done, total, note))
    return f"roll-ups rebuilt ({getattr(run, 'rows', '') or 'done'})"


register_seed_step("rollups", 90, rollups)
