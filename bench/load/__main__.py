"""Load test: mixed traffic against gunicorn on PostgreSQL and Redis while a migration runs.

    .venv/bin/python bench/load                    # 10 minutes measured, after 30 s of warm-up
    .venv/bin/python bench/load --duration 2m      # a shorter look

One command, loopback only, bounded in time: it creates its own PostgreSQL database (dropped at
the end) and Redis keys (under a prefix of the run, in db 6 by default, deleted at the end);
brings the schema up (`flask db upgrade`); imports a generated registry extract of 50,000
licences (`flask registry import`); issues confidential codes, opens and confirms local
accounts and seals attestations through the project's services (prepare.py); and creates a
read-only admin token (`flask admin create-token`). It then serves the application with
gunicorn (gunicorn.conf.py, 2 workers) and drives it with Locust: legacy SOAP clients (valid
codes; wrong codes on files kept for it, which lock, as they should; mistyped file numbers;
new-code requests), holders in a browser (sign-in, dashboard, JSON API, attestation PDF,
sign-out), third parties verifying documents (JSON API and /verifier), and an agent following
the migration on the admin API; meanwhile `flask migrations run` migrates a generated legacy
export of 1,000,000 lines. Two phases, one after the other:

- memory (`--duration`): periodic worker restarts off, so that memory growth shows;
- recycling (`--recycle-duration`, 3 minutes by default; 0: none): a new gunicorn with the
  production policy (gunicorn.conf.py, modern/recycling.py: limits spaced, one worker
  restarting at a time) and a small `--max-requests` (1,000), so that every worker is
  recycled at least once under the same load.

Prints requests/s, p50/p95/p99 per route, outcomes per route (expected refusals apart from
errors), the count of 5xx, the longest time without any answer, the migration's progress,
and the RSS of the gunicorn master and workers every 10 s with its growth from the first
minute to the last; then, for the recycling phase, each worker's leaving and starting with
its RSS before the recycle, the routes again, the failed requests and the longest time
without any answer. Exits 1 on any server error (5xx), any unexpected answer or request
unanswered, any error in the server's log, a replaced worker in the memory phase, a memory
growth beyond `--max-growth` percent (5 by default), a worker of the recycling phase's start
never recycled, or a silence beyond `--max-gap` seconds (2 by default) while they are.
Logs: bench/out/load/.
"""

from gevent import monkey

# Before anything opens a socket: Locust's clients are greenlets.
monkey.patch_all()

from run import main  # noqa: E402

main()
