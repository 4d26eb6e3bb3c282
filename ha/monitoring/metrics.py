"""/metrics in Prometheus text format, built with prometheus_client from the stored
statuses. Names follow mysqld_exporter (mysql_slave_status_*, mysql_heartbeat_*)
with a strongroom_ prefix, so existing dashboards and alert rules map over."""
from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from alerts.selectors import deliveries_failed_count


def metrics_text(summary: dict) -> bytes:
    registry = CollectorRegistry()
    details = summary["details"]

    def gauge(name: str, documentation: str, value, labels: dict | None = None) -> None:
        if value is None:
            return  # unknown: absent, never a made-up zero
        metric = Gauge(name, documentation, list(labels or {}), registry=registry)
        (metric.labels(**labels) if labels else metric).set(value)

    gauge("strongroom_node_info", "This node's name and role.", 1,
          {"node": summary["node"], "role": summary["role"]})
    for kind, title in (("ha", "High Availability"), ("replication", "Replication"),
                        ("semisync", "Zero-Data-Loss")):
        state = summary[kind]["status"]
        gauge(f"strongroom_{kind}_status_alive", f"{title} Status: 1 Alive, 0 Failed or "
              f"Unknown.", int(state == "alive"))
        gauge(f"strongroom_{kind}_status_known", f"1 when the {title} Status is known.",
              int(state != "unknown"))
    for name, key in (("slave_io_running", "io_running"), ("slave_sql_running", "sql_running")):
        value = details.get(key)
        gauge(f"strongroom_mysql_slave_status_{name}", f"The replica's {key} is Yes "
              f"(on a primary: as its secondary last reported).",
              None if value is None else int(value == "Yes"))
    gauge("strongroom_mysql_slave_status_last_sql_errno", "The replica's last SQL error number.",
          details.get("last_sql_errno"))
    lag = details.get("lag_ms")
    gauge("strongroom_replication_lag_seconds", "Heartbeat-based replication lag.",
          None if lag is None else lag / 1000)
    gauge("strongroom_mysql_heartbeat_age_seconds", "Age of the primary's heartbeat here.",
          details.get("heartbeat_age_seconds"))
    beat = details.get("heartbeat_at")
    gauge("strongroom_mysql_heartbeat_stored_timestamp_seconds",
          "When the primary wrote the heartbeat this node has applied.",
          datetime.fromisoformat(beat).timestamp() if beat else None)
    gauge("strongroom_mysql_rpl_semi_sync_master_no_tx", "Commits no secondary acknowledged "
          "(zero-data-loss mode; since the server started).", details.get("semi_sync_no_tx"))
    gauge("strongroom_mysql_rpl_semi_sync_master_clients", "Secondaries acknowledging commits "
          "(zero-data-loss mode).", details.get("semi_sync_clients"))
    gauge("strongroom_audit_outbox_pending_rows", "Audit rows waiting for the primary.",
          details.get("outbox_pending"))
    gauge("strongroom_ha_check_seconds_since_success", "Seconds since the last status check.",
          summary["seconds_since_check"])
    gauge("strongroom_alert_send_failures", "Alert deliveries that failed for good.",
          deliveries_failed_count())
    return generate_latest(registry)
