"""Call reports: one self-contained HTML file per call (docs/softphone.md#the-call-report).

`model` holds what a report shows (pure data), `timeline` collects a call's timed events from
its bridge steps, `html` renders a report (inline SVG, no script, nothing fetched). The shell
writes one beside each recording (`gateway.shell.call_report`); the simulator writes one for a
simulated call (`gateway call --report`).
"""
