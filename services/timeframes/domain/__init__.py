"""The calendar's domain: schedules, events and time frames, with the rules for creating and
changing them (`model`) and the validation of every command (`commands`). Pure: no I/O."""
