#!/usr/bin/env python3
"""How long headless Chromium takes to open a page, from its own Navigation Timing: time to first contentful
paint and to the load event (layout and paint of the whole page included), without the browser's start.

Usage: scripts/page-timing.py FILE... (each is opened 3 times; the median is printed). Needs chromium and the
websocket-client package (scripts/bench-report installs it)."""
import json, os, shutil, statistics, subprocess, sys, tempfile, time, urllib.request
import websocket

PORT = 9339
profile = tempfile.mkdtemp()
browser = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={PORT}",
                            f"--user-data-dir={profile}", "--window-size=1200,900", "about:blank"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/json/version", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)

    def measure(path):
        url = "file://" + os.path.abspath(path)
        req = urllib.request.Request(f"http://127.0.0.1:{PORT}/json/new?{url}", method="PUT")
        target = json.loads(urllib.request.urlopen(req, timeout=10).read())
        ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60)
        ident = 0
        def evaluate(expr):
            nonlocal ident
            ident += 1
            ws.send(json.dumps({"id": ident, "method": "Runtime.evaluate",
                                "params": {"expression": expr, "returnByValue": True}}))
            while True:
                msg = json.loads(ws.recv())
                if msg.get("id") == ident:
                    return msg["result"]["result"].get("value")
        for _ in range(600):
            if evaluate("document.readyState === 'complete' && performance.getEntriesByType('navigation')[0].loadEventEnd > 0"):
                break
            time.sleep(0.05)
        t = evaluate("""JSON.stringify({
            load: performance.getEntriesByType('navigation')[0].loadEventEnd,
            fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null,
            bytes: document.documentElement.outerHTML.length})""")
        ws.close()
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/json/close/{target['id']}", timeout=10).read()
        return json.loads(t)

    for path in sys.argv[1:]:
        runs = [measure(path) for _ in range(3)]
        load = statistics.median(r["load"] for r in runs) / 1000
        fcps = [r["fcp"] for r in runs if r["fcp"] is not None]
        fcp = statistics.median(fcps) / 1000 if fcps else float("nan")
        print(f"{path}: 首次内容绘制 {fcp:.2f} 秒，加载完成 {load:.2f} 秒（3 次中位数，{os.path.getsize(path) // 1024} KB）")
finally:
    browser.terminate()
    browser.wait()
    shutil.rmtree(profile, ignore_errors=True)
