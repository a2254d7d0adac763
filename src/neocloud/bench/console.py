"""`neocloud bench console`: how fast the console's pages answer, and how fast the fleet map draws.

Pages: a fleet (default gb200-superpod) on a scratch database with `tenants` tenants and a finished,
invoiced month of history (reservations and on-demand instances every few days, run on a manual clock
through the public use cases, as the demo's past month is), then live work now. Each main page is
requested `requests` times in-process (the ASGI app through Starlette's TestClient, signed in as a
tenant or the operator, no network) after two warm-ups; p50 and p95 per page. The baseline beside it
is the demo fleet (two tenants), measured the same way in the same run.

Fleet map: campus-1gw (≈5.5k racks, ≈100k trays) with some racks held. The topology's build from the
columnar node read beside the per-object read (the baseline), topology.bin cold and cached, state.bin;
then, when Playwright and Debian's chromium are present, per run a fresh server and a fresh browser
context: the time from navigation until the map has drawn (rack view, its default at that size), the
same on a reload (the topology from the browser's cache), and the redraw to the tray view.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from neocloud.kernel.errors import DomainError
from neocloud.kernel.periods import Period

TENANT_PAGES = ("/", "/reservations", "/instances", "/usage", "/invoices", "/invoice", "/tokens")
OPERATOR_PAGES = (
    "/operator/fleet",
    "/operator/fleet/topology.bin",
    "/operator/fleet/state.bin",
    "/operator/nodes",
    "/operator/tenants",
    "/operator/prices",
    "/operator/revenue",
    "/operator/utilisation",
)
TARGET_P95_MS = 300.0
TARGET_MAP_MS = 2000.0
CHROMIUM = "/usr/bin/chromium"
START_DEADLINE_S = 60.0


def finished_month(now: datetime) -> Period:
    """The calendar month before the one `now` less an hour falls in (the demo's past month)."""
    current = Period.month_of(now - timedelta(hours=1))
    return Period.month_of(current.start - timedelta(seconds=1))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


@contextmanager
def _world(preset: str, tenants: int, history_days: int, database: str) -> Iterator[dict[str, Any]]:
    """A served world on a scratch database: app, tokens of a tenant and the operator, one invoice."""
    from neocloud.api.app import create_app
    from neocloud.bootstrap import build_services, manual_clock, scratch_settings, upgrade_database
    from neocloud.control.app.views import InstanceRequest, ReservationRequest
    from neocloud.control.domain.tenancy import Role
    from neocloud.fleet import presets

    fleet = presets.build(preset)
    with scratch_settings(database) as settings:
        settings = replace(settings, provision_delay=timedelta(0))
        upgrade_database(settings)
        month = finished_month(datetime.now(UTC))
        clock = manual_clock(month.start)
        past = build_services(settings, clock=clock)
        assert past.billing is not None
        cp = past.control
        cp.fleet.import_fleet(fleet)
        _, operator = cp.tenancy.create_token(None, Role.OPERATOR)
        names = [f"lab{i:02d}" for i in range(tenants)]
        tokens = {}
        models = sorted(fleet.gpus_by_model())
        for name in names:
            cp.tenancy.create_tenant(name)
            tokens[name] = cp.tenancy.create_token(name, Role.TENANT_ADMIN)[1]
        who = {n: cp.tenancy.authenticate(t) for n, t in tokens.items()}
        start = month.start + timedelta(hours=9)
        days = min(history_days, (month.end - month.start).days - 2)
        for d in range(days):
            clock.set(start + timedelta(days=d))
            running = []
            for i, name in enumerate(names):
                model = models[(i + d) % len(models)]
                per = fleet.nodes[0].gpus if model == fleet.nodes[0].model else 8
                try:
                    if (i + d) % 2 == 0:
                        cp.reservations.reserve(
                            who[name], ReservationRequest(model, per * 4, 20, None, "any")
                        )
                    if (i + d) % 3 == 0:
                        running.append(
                            (name, cp.instances.create_instance(who[name], InstanceRequest(model, 2)).id)
                        )
                except DomainError:  # a full fleet refuses some: history is what fitted
                    pass
            cp.reconcile()
            cp.reconcile()
            clock.set(start + timedelta(days=d, hours=10))
            for name, ident in running:
                cp.instances.stop_instance(who[name], ident)
            cp.reconcile()
            clock.set(start + timedelta(days=d, hours=21))
            cp.reconcile()
        clock.set(month.end + timedelta(hours=1))
        cp.reconcile()
        invoices = past.billing.finalize(month)
        past.close()
        services = build_services(settings)
        live = services.control
        who = {n: live.tenancy.authenticate(t) for n, t in tokens.items()}
        now = datetime.now(UTC)
        for i, name in enumerate(names):
            model = models[i % len(models)]
            per = fleet.nodes[0].gpus if model == fleet.nodes[0].model else 8
            for k in range(3):
                with suppress(DomainError):
                    live.reservations.reserve(
                        who[name],
                        ReservationRequest(model, per * 2, 8, now + timedelta(days=k, hours=i), "any"),
                    )
        live.reconcile()
        live.reconcile()
        first = names[0]
        invoice = next((inv.id for inv in invoices if inv.tenant_id == who[first].tenant_id), None)
        try:
            yield {
                "app": create_app(services),
                "tenant": tokens[first],
                "operator": operator,
                "invoice": invoice,
                "nodes": len(fleet.nodes),
                "tenants": tenants,
                "services": services,
            }
        finally:
            services.close()


def _client(app: Any, token: str) -> Any:
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="http://127.0.0.1")
    form = client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    signed = client.post(
        "/signin", data={"csrf": csrf.group(1), "token": token, "next": "/"}, follow_redirects=False
    )
    if signed.status_code != 303:
        raise RuntimeError(f"sign-in failed: {signed.status_code}")
    return client


def time_pages(world: dict[str, Any], requests: int) -> list[dict[str, Any]]:
    rows = []
    for token, pages in ((world["tenant"], TENANT_PAGES), (world["operator"], OPERATOR_PAGES)):
        client = _client(world["app"], token)
        for path in pages:
            url = f"/invoices/{world['invoice']}" if path == "/invoice" else path
            if path == "/invoice" and world["invoice"] is None:
                continue
            samples = []
            status = 0
            for i in range(requests + 2):
                t0 = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - t0) * 1000
                status = response.status_code
                if i >= 2:
                    samples.append(elapsed)
            rows.append(
                {
                    "page": path,
                    "status": status,
                    "p50_ms": round(statistics.median(samples), 1),
                    "p95_ms": round(percentile(samples, 95), 1),
                    "bytes": len(response.content),
                }
            )
    return rows


def time_fleet_map(database: str, runs: int, browser: bool) -> dict[str, Any]:
    """campus-1gw's map. Server: the topology's build from the node table read as columns (what the map
    uses) beside the per-object read through the units of work (the previous path's read), alternating;
    topology.bin cold (a fresh server without its start-up warm-up) and cached; state.bin. Browser
    (with Playwright and Debian's chromium): each run starts a fresh server (its start-up warms the map
    in the background) and a fresh browser context, signs in and opens the map at once."""
    from neocloud.api.app import create_app
    from neocloud.bootstrap import build_services, scratch_settings, upgrade_database
    from neocloud.control.app.fleetmap import StoreNodeTable
    from neocloud.control.app.layout import build_topology
    from neocloud.control.app.views import ReservationRequest
    from neocloud.control.domain.tenancy import Role
    from neocloud.fleet import presets

    fleet = presets.build("campus-1gw")
    out: dict[str, Any] = {
        "preset": "campus-1gw",
        "trays": len(fleet.nodes),
        "racks": len({n.rack for n in fleet.nodes}),
    }
    with scratch_settings(database) as settings:
        settings = replace(settings, provision_delay=timedelta(0))
        upgrade_database(settings)
        services = build_services(settings)
        try:
            cp = services.control
            t0 = time.perf_counter()
            cp.fleet.import_fleet(fleet)
            out["import_s"] = round(time.perf_counter() - t0, 1)
            _, operator = cp.tenancy.create_token(None, Role.OPERATOR)
            for i in range(12):
                name = f"lab{i:02d}"
                cp.tenancy.create_tenant(name)
                who = cp.tenancy.authenticate(cp.tenancy.create_token(name, Role.TENANT_ADMIN)[1])
                for _ in range(2):
                    cp.reservations.reserve(who, ReservationRequest("GB200", 72 * 3, 24, None, "whole-nvl72"))
            cp.reconcile()
            cp.reconcile()
        finally:
            services.close()
        columnar: list[float] = []
        per_object: list[float] = []
        cold: list[float] = []
        cold_cpu: list[float] = []
        warm: list[float] = []
        state: list[float] = []
        for _ in range(runs):
            fresh = build_services(settings)
            try:
                table = fresh.control.deps.node_table
                for reader, into in ((table, columnar), (StoreNodeTable(fresh.control.deps), per_object)):
                    assert reader is not None
                    t1 = time.perf_counter()
                    build_topology(reader.node_columns(), "bench")
                    into.append((time.perf_counter() - t1) * 1000)
            finally:
                fresh.close()
            fresh = build_services(settings)
            try:
                client = _client(create_app(fresh), operator)  # no lifespan: nothing warmed
                version = re.search(r"topology.bin\?v=([0-9a-f]{16})", client.get("/operator/fleet").text)
                topo_url = f"/operator/fleet/topology.bin?v={version.group(1) if version else ''}"
                t1, c1 = time.perf_counter(), time.process_time()
                size = len(client.get(topo_url).content)
                cold.append((time.perf_counter() - t1) * 1000)
                cold_cpu.append((time.process_time() - c1) * 1000)
                for url, into in ((topo_url, warm), ("/operator/fleet/state.bin", state)):
                    t1 = time.perf_counter()
                    response = client.get(url)
                    into.append((time.perf_counter() - t1) * 1000)
                out["topology_bytes"] = size
                out["state_bytes"] = len(response.content)
                out["topology_json_bytes"] = len(client.get("/operator/fleet/topology.json").content)
                out["state_json_bytes"] = len(client.get("/operator/fleet/state.json").content)
            finally:
                fresh.close()
        out["topology_build_columnar_p50_ms"] = round(statistics.median(columnar), 1)
        out["topology_build_per_object_p50_ms"] = round(statistics.median(per_object), 1)
        out["topology_cold_p50_ms"] = round(statistics.median(cold), 1)
        out["topology_cold_max_ms"] = round(max(cold), 1)
        out["topology_cold_cpu_p50_ms"] = round(statistics.median(cold_cpu), 1)
        out["topology_warm_p50_ms"] = round(statistics.median(warm), 1)
        out["state_p50_ms"] = round(statistics.median(state), 1)
        if browser:
            out.update(_browser_times(settings, operator, runs))
    return out


def _browser_times(settings: Any, operator: str, runs: int) -> dict[str, Any]:
    import shutil as _shutil

    if _shutil.which(CHROMIUM) is None:
        return {"browser": f"{CHROMIUM} missing"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"browser": "playwright not installed (pip install -e '.[dev]')"}
    import socket
    import threading

    import uvicorn

    from neocloud.api.app import create_app
    from neocloud.bootstrap import build_services

    drawn: list[float] = []
    since_start: list[float] = []
    reloads: list[float] = []
    trays: list[float] = []
    fetches: list[float] = []
    draws: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for _ in range(runs):
            services = build_services(settings)  # a fresh server: nothing cached, its start-up warms the map
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            server = uvicorn.Server(
                uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning")
            )
            started = time.perf_counter()
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                if not thread.is_alive() or time.perf_counter() - started > START_DEADLINE_S:
                    raise RuntimeError(f"the console server on port {port} did not start")
                time.sleep(0.01)
            url = f"http://127.0.0.1:{port}"
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.goto(f"{url}/signin")
                page.fill("input[name=token]", operator)
                page.click("button[type=submit]")
                page.wait_for_load_state("load")
                for cached in (False, True):
                    page.goto(f"{url}/operator/fleet")
                    page.wait_for_selector("#fleetmap[data-rendered=yes]", timeout=60_000)
                    ms = float(page.get_attribute("#fleetmap", "data-render-ms") or "nan")
                    (reloads if cached else drawn).append(ms)
                    if not cached:
                        since_start.append((time.perf_counter() - started) * 1000)
                        fetches.append(float(page.get_attribute("#fleetmap", "data-fetch-ms") or "nan"))
                        draws.append(float(page.get_attribute("#fleetmap", "data-draw-ms") or "nan"))
                trays.append(
                    page.evaluate(
                        "() => { const t0 = performance.now(); document.querySelector('[data-zoom=in]').click();"
                        " return performance.now() - t0; }"
                    )
                )
                context.close()
            finally:
                server.should_exit = True
                thread.join(10)
                services.close()
        browser.close()
    return {
        "browser_drawn_p50_ms": round(statistics.median(drawn), 1),
        "browser_drawn_max_ms": round(max(drawn), 1),
        "server_start_to_drawn_p50_ms": round(statistics.median(since_start), 1),
        "browser_reload_drawn_p50_ms": round(statistics.median(reloads), 1),
        "browser_fetch_both_p50_ms": round(statistics.median(fetches), 1),
        "browser_combine_and_draw_p50_ms": round(statistics.median(draws), 1),
        "tray_view_redraw_p50_ms": round(statistics.median(trays), 1),
    }


def run(
    preset: str = "gb200-superpod",
    tenants: int = 12,
    requests: int = 30,
    database: str = "sqlite",
    history_days: int = 28,
    map_runs: int = 5,
    browser: bool = True,
    fleet_map: bool = True,
    pages: bool = True,
) -> dict[str, Any]:
    figures: dict[str, Any] = {"database": database, "requests_per_page": requests}
    if not pages:
        figures["fleet_map"] = time_fleet_map(database, map_runs, browser)
        figures["target_map_ms"] = TARGET_MAP_MS
        return figures
    with _world("demo", 2, history_days, database) as demo:
        figures["baseline"] = {
            "preset": "demo",
            "nodes": demo["nodes"],
            "tenants": 2,
            "pages": time_pages(demo, requests),
        }
    with _world(preset, tenants, history_days, database) as world:
        figures["measured"] = {
            "preset": preset,
            "nodes": world["nodes"],
            "tenants": tenants,
            "pages": time_pages(world, requests),
        }
    if fleet_map:
        figures["fleet_map"] = time_fleet_map(database, map_runs, browser)
    figures["target_p95_ms"] = TARGET_P95_MS
    figures["target_map_ms"] = TARGET_MAP_MS
    return figures
