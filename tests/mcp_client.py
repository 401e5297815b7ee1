"""Drives `perfgate mcp` with the official MCP Python SDK (`mcp` from PyPI),
as a coding agent would: list tools, validate a broken scenario, start a
compare on a real Go module whose candidate is 25% slower, poll it to done,
read results and findings, match profile_top against `perfgate profile top
--json`, cancel a second run (no process left), send malformed arguments
(tool errors, server still answering); then, over the raw protocol, close
stdin mid-run and check that the server and its run end cleanly with the
partial results kept.

usage: python mcp_client.py PERFGATE REPO FIXTURE_PROFILE
Run by tests/mcp.rs; exits non-zero with a message on the first failure.
"""

import asyncio
import json
import os
import subprocess
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

PERFGATE, REPO, FIXTURE = sys.argv[1], sys.argv[2], sys.argv[3]


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(f"{what}\n{detail}")
    print(f"ok: {what}", flush=True)


def processes_under(path):
    """Pids of live processes whose command line mentions `path` (our runs, their test binaries)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if path in cmd and state != "Z" and "mcp_client.py" not in cmd:
            found.append((int(pid), cmd))
    return found


def wait_no_processes(path, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = processes_under(path)
        if not left:
            return []
        time.sleep(0.2)
    return processes_under(path)


async def call(session, tool, args):
    return await session.call_tool(tool, args)


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "text", None))


async def poll(session, run_id, until, timeout):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        r = await call(session, "run_status", {"run_id": run_id})
        check_quiet(not r.is_error, f"run_status errored: {text_of(r)}")
        last = r.structured_content
        if until(last):
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"run {run_id}: timed out waiting; last status {json.dumps(last)}")


def check_quiet(cond, what):
    if not cond:
        raise AssertionError(what)


async def session_tests():
    # Registered the way a new user does it: the snippet `--print-config` prints.
    printed = subprocess.run([PERFGATE, "mcp", "--print-config"], capture_output=True, text=True, check=True)
    entry = json.loads(printed.stdout)["mcpServers"]["perfgate"]
    check(entry["type"] == "stdio" and os.path.samefile(entry["command"], PERFGATE) and entry["args"] == ["mcp"],
          "--print-config names this binary and `mcp`", printed.stdout)
    params = StdioServerParameters(command=entry["command"], args=entry["args"], cwd=REPO, env={"NO_COLOR": "1"})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            check(init.server_info.name == "perfgate", "initialize names the server")

            tools = {t.name: t for t in (await s.list_tools()).tools}
            want = {"validate_scenario", "start_compare", "run_status", "cancel_run", "get_results",
                    "get_findings", "profile_top", "profile_diff", "flame_query", "list_runs", "history"}
            check(want <= set(tools), "every tool is listed", sorted(tools))
            check(tools["start_compare"].input_schema["properties"]["max_time"] is not None,
                  "start_compare has an input schema with max_time")
            check("30m" in tools["start_compare"].description, "start_compare's description states the cap")

            # A broken scenario: the error names file, line and column.
            r = await call(s, "validate_scenario", {"path": "broken.toml"})
            check(r.is_error and "broken.toml:3:" in text_of(r), "a broken file is a tool error with file:line:col",
                  text_of(r))
            r = await call(s, "validate_scenario", {"path": "perf.toml"})
            check(not r.is_error and r.structured_content["ok"], "a good file validates", text_of(r))

            # Bounded work: above 30 minutes is refused.
            r = await call(s, "start_compare", {"scenarios": ["perf.toml"], "max_time": "2h"})
            check(r.is_error and "30m" in text_of(r), "max_time above 30m is refused", text_of(r))

            r = await call(s, "start_compare", {"scenarios": ["perf.toml"], "baseline": "no-such-rev"})
            check(r.is_error and "no-such-rev" in text_of(r), "an unknown revision is a tool error", text_of(r))

            # The regression: HEAD~1 vs HEAD, 25% slower.
            r = await call(s, "start_compare", {"scenarios": ["perf.toml"], "baseline": "HEAD~1",
                                                 "candidate": "HEAD", "max_time": "90s", "seed": 11})
            check(not r.is_error, "start_compare returns at once", text_of(r))
            run_id = r.structured_content["run_id"]
            r2 = await call(s, "start_compare", {"scenarios": ["perf.toml"]})
            check(r2.is_error and run_id in text_of(r2), "a second run while one runs is refused", text_of(r2))
            seen = set()

            def done(st):
                seen.add(st["state"])
                return st["state"] in ("done", "failed", "cancelled")

            st = await poll(s, run_id, done, timeout=600)
            check(st["state"] == "done", "the run is done", json.dumps(st))
            check(st["exit_code"] == 1 and st["verdict"] == "regressed", "exit code 1, verdict regressed",
                  json.dumps(st))
            check(st["counts"]["regressed"] >= 1 and st["round"] >= 6, "counts and rounds are reported",
                  json.dumps(st))
            check("measuring" in seen, "the state went through measuring", str(seen))

            r = await call(s, "get_results", {"run_id": run_id})
            res = r.structured_content
            check(not r.is_error and res["verdict"] == "regressed", "get_results says regressed", text_of(r))
            work = [c for c in res["changes"] if c["metric"] == "ns/op"]
            check(work and work[0]["verdict"] == "regressed" and 15 < work[0]["delta_pct"] < 35,
                  "ns/op regressed by about 25%, with both sides' medians and the interval", json.dumps(work))
            w = work[0]
            check(w["delta_ci_low_pct"] <= w["delta_pct"] <= w["delta_ci_high_pct"]
                  and w["baseline"]["median"] < w["candidate"]["median"], "the interval holds the estimate")

            r = await call(s, "get_results", {"run_id": run_id, "filter": {"verdict": "all", "limit": 1}})
            check(len(r.structured_content["changes"]) == 1 and r.structured_content["notes"],
                  "a capped answer says how to ask for more", json.dumps(r.structured_content["notes"]))

            r = await call(s, "get_findings", {"run_id": run_id})
            fs = r.structured_content["findings"]
            check(not r.is_error and fs and fs[0]["verdict"] == "regressed", "a regressed finding", text_of(r))
            f = fs[0]
            check(any(x["metric"] == "ns/op" for x in f["figures"]), "the finding quotes ns/op both sides")
            check(f["cause"] is None and "TO FILL" in text_of(r), "cause left for the agent, marked")
            check(any("Work" in loc["function"] and loc["file"].endswith("work.go") and loc["line"] > 0
                      for loc in f["locations"]), "the location names Work in work.go with a line",
                  json.dumps(f["locations"]))
            check(any("round" in v for v in f["verification"]["ran"]), "verification lists the rounds")
            check(any("load-tested" in v for v in f["verification"]["not_run"]), "and says what was not run")

            # profile_top on a stored profile matches the CLI exactly.
            for n in (5, 25):
                r = await call(s, "profile_top", {"path": FIXTURE, "n": n})
                cli = subprocess.run([PERFGATE, "profile", "top", "--json", "--n", str(n), FIXTURE],
                                     capture_output=True, text=True, check=True)
                check(r.structured_content == json.loads(cli.stdout),
                      f"profile_top n={n} equals `perfgate profile top --json`")
            out_dir = st["out_dir"]
            prof_dir = os.path.join(out_dir, "profiles")
            profs = sorted(os.path.join(dp, f) for dp, _, fns in os.walk(prof_dir) for f in fns
                           if f.endswith((".pb.gz", ".pprof")))
            check(len(profs) >= 2, "the run stored profiles", str(profs))
            r = await call(s, "profile_top", {"path": profs[0], "n": 10})
            cli = subprocess.run([PERFGATE, "profile", "top", "--json", "--n", "10", profs[0]],
                                 capture_output=True, text=True, check=True)
            check(r.structured_content == json.loads(cli.stdout), "profile_top equals the CLI on the run's profile")
            r = await call(s, "profile_diff", {"base": profs[0], "new": profs[1], "n": 10})
            cli = subprocess.run([PERFGATE, "profile", "diff", "--json", "--n", "10", profs[0], profs[1]],
                                 capture_output=True, text=True, check=True)
            check(r.structured_content == json.loads(cli.stdout), "profile_diff equals the CLI")
            r = await call(s, "flame_query", {"path": profs[0], "focus": "BenchmarkWork", "depth": 2})
            tree = r.structured_content
            check(not r.is_error and "BenchmarkWork" in tree["root"]["function"]
                  and any("Work" in c["function"] for c in tree["root"]["children"]),
                  "flame_query shows the callees of BenchmarkWork", text_of(r))
            r = await call(s, "flame_query", {"path": profs[0], "focus": "no-such-function"})
            check(r.is_error and "matches" in text_of(r), "an unknown focus is a tool error", text_of(r))

            r = await call(s, "list_runs", {})
            check(any(j["run_id"] == run_id for j in r.structured_content["started_here"])
                  and r.structured_content["recent"], "list_runs lists the run", text_of(r))
            r = await call(s, "history", {})
            check(r.is_error and "history" in text_of(r).lower(), "history without a store is a clear error",
                  text_of(r))

            # Cancel a run mid-measurement: partial results, nothing left running.
            r = await call(s, "start_compare", {"scenarios": ["perf.toml"], "baseline": "HEAD",
                                                 "candidate": "HEAD", "max_time": "5m"})
            run2 = r.structured_content["run_id"]
            await poll(s, run2, lambda st: st["state"] == "measuring" and st["trials"] >= 4, timeout=300)
            r = await call(s, "cancel_run", {"run_id": run2})
            check(not r.is_error, "cancel_run accepted", text_of(r))
            st = await poll(s, run2, lambda st: st["state"] in ("cancelled", "done", "failed"), timeout=120)
            check(st["state"] == "cancelled", "the run is cancelled", json.dumps(st))
            res = json.load(open(os.path.join(st["out_dir"], "results.json")))
            check(res["run"]["status"] == "interrupted" and res["samples"], "partial results.json kept")
            left = wait_no_processes(os.path.join(REPO, ".perfgate"))
            check(not left, "no process of the cancelled run is left", str(left))

            # Malformed arguments: tool errors, and the server still answers.
            for tool, args in [("run_status", {}), ("run_status", {"run_id": 5}),
                               ("get_results", {"run_id": "x", "path": "y"}),
                               ("profile_top", {"path": "/nonexistent.pb.gz"}),
                               ("profile_top", {"path": "perf.toml"}),
                               ("start_compare", {"scenarios": "perf.toml"}),
                               ("start_compare", {"scenarios": ["perf.toml"], "bogus": 1}),
                               ("get_results", {"run_id": "no-such-run"})]:
                r = await call(s, tool, args)
                check(r.is_error and text_of(r), f"{tool} {json.dumps(args)} is a tool error: {text_of(r)[:100]}")
            r = await call(s, "list_runs", {})
            check(not r.is_error, "the server still answers after bad calls")


def rpc(proc, msg):
    proc.stdin.write((json.dumps(msg) + "\n").encode())
    proc.stdin.flush()


def reply(proc, want_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("the server closed stdout")
        m = json.loads(line)
        if m.get("id") == want_id:
            return m
    raise AssertionError(f"no reply to {want_id}")


def killed_client_test():
    """The client goes away (stdin closed) mid-run: the server cancels its
    run, waits for the partial results, and exits; nothing is left."""
    proc = subprocess.Popen([PERFGATE, "mcp"], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    rpc(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}})
    check("result" in reply(proc, 1), "raw initialize")
    rpc(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    rpc(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "start_compare", "arguments": {"scenarios": ["perf.toml"], "baseline": "HEAD",
                                               "candidate": "HEAD", "max_time": "5m"}}})
    started = reply(proc, 2)["result"]
    check(not started.get("isError"), "raw start_compare", json.dumps(started))
    run_id = started["structuredContent"]["run_id"]
    n = 3
    deadline = time.time() + 300
    status = {}
    while time.time() < deadline:
        rpc(proc, {"jsonrpc": "2.0", "id": n, "method": "tools/call",
                   "params": {"name": "run_status", "arguments": {"run_id": run_id}}})
        status = reply(proc, n)["result"]["structuredContent"]
        n += 1
        if status["state"] == "measuring" and status["trials"] >= 4:
            break
        time.sleep(0.5)
    check(status.get("state") == "measuring", "the run is measuring", json.dumps(status))
    proc.stdin.close()
    try:
        code = proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the server did not exit after its client left")
    check(code == 0, f"the server exits by itself when stdin closes (exit {code})")
    res = json.load(open(os.path.join(status["out_dir"], "results.json")))
    check(res["run"]["status"] == "interrupted" and res["samples"], "the partial results.json is kept")
    left = wait_no_processes(os.path.join(REPO, ".perfgate"))
    check(not left, "no orphan process", str(left))


if __name__ == "__main__":
    asyncio.run(session_tests())
    killed_client_test()
    print("all MCP client checks passed", flush=True)
