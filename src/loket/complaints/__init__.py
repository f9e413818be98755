"""Complaints (pengaduan): registration, working-day SLA clocks, reminders and OJK reports (docs/complaints.md)."""
