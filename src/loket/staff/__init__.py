"""Staff identity and access: accounts, mandatory TOTP, sessions, roles and permissions, API keys.

Framework-free services live here (`service.StaffService` holds them); the FastAPI side is in
`loket.staff.web`, the command line in `loket.staff.cli`, the matrix in `loket.staff.permissions`.
Nothing is imported here, so `python -m loket.staff.permissions` stays cheap and warning-free.
"""
