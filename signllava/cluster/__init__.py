"""Every stage as SLURM jobs through submitit: the stage registry (``stages``), the jobs (``stage_jobs``),
cluster profiles, ``submit`` (``launcher``) and ``jobs`` (``job_status``).

Only the CLI imports it (and its own modules each other): ``tests/test_imports.py`` holds that.
"""
