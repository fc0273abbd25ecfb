"""Loaded by the fork server of the plan jobs (and only there) before it forks any job:
it ties the fork server's life to the server's, and loads the solver once.

A job is a fork of the fork server, which is a child of `broker serve`. When the server
dies, even by SIGKILL, the kernel kills the fork server (parent-death signal), and each
job dies with the fork server the same way (worker.py sets it for the job): no solve
outlives the server that would record it.
"""

from __future__ import annotations

from broker.service.worker import die_with_parent

die_with_parent()
