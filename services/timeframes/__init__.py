"""Timeframes (calendar): schedules, their events (sessions) with capacity and participant
totals, and each schedule's time frame (first start, last end, number of sessions)."""
