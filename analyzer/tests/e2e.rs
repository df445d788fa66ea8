//! End to end: `nodejoin-collect --root` on fake Raspberry Pi trees with fake
//! commands and real loopback clock peers, then `nodejoin analyze` on the bundle.

use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::{fake_cmd, fake_tools, now, PiOptions};

const NODEJOIN: &str = env!("CARGO_BIN_EXE_nodejoin");

fn ready_node(name: &str) -> String {
    let t = chrono_like(now() - 20);
    format!("apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  creationTimestamp: \"{}\"\nspec:\n  podCIDR: 10.244.1.0/24\nstatus:\n  capacity:\n    pods: \"110\"\n  conditions:\n  - type: Ready\n    status: \"True\"\n    reason: KubeletReady\n    message: kubelet is posting ready status\n    lastHeartbeatTime: \"{t}\"\n  nodeInfo:\n    architecture: arm64\n    machineID: 3f5c0e9a7b2d4e6f8a1b2c3d4e5f6a7b\n", chrono_like(now() - 86400))
}

fn chrono_like(t: i64) -> String {
    bundle::time::rfc3339_micros(t * 1_000_000).replace(".000000", "")
}

fn collect(t: &Path, make: impl Fn(&Path), tools: impl Fn(&Path, &Path)) -> PathBuf {
    let (root, bin, out) = (t.join("root"), t.join("bin"), t.join("out"));
    std::fs::create_dir_all(&out).unwrap();
    make(&root);
    tools(&bin, &t.join("data"));
    // The collector library, as its binary runs it, with the fakes as its PATH.
    let opts = collector::Options {
        root,
        search: vec![bin],
        output: Some(out),
        timeout: std::time::Duration::from_secs(5),
        ..Default::default()
    };
    collector::collect(&opts).expect("bundle written").path
}

fn analyze(bundle: &Path) -> (i32, serde_json::Value) {
    let o = Command::new(NODEJOIN)
        .arg("analyze")
        .arg(bundle)
        .arg("--format")
        .arg("json")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)));
    (o.status.code().unwrap(), v)
}

fn synced_chrony(bin: &Path) {
    fake_cmd(
        bin,
        "chronyc",
        "echo 'Reference ID    : 7F000001 (127.0.0.1)'\necho 'Leap status     : Normal'",
    );
}

#[test]
fn healthy_kubeadm_pi_is_joined() {
    let t = tempfile::tempdir().unwrap();
    let ntp = testkit::NtpServer::start(0.0);
    let api = testkit::HttpsServer::start(&t.path().join("https"), 0.0);
    let bundle = collect(
        t.path(),
        |root| {
            let mut o = PiOptions::new("pi-node-1");
            o.api = api.url.clone();
            o.ntp = Some(format!("127.0.0.1 port {}", ntp.addr.port()));
            testkit::kubeadm_pi(root, &o);
        },
        |bin, data| {
            fake_tools(bin, data, &[]);
            synced_chrony(bin);
            fake_cmd(bin, "vcgencmd", "echo throttled=0x0");
            fake_cmd(bin, "dmesg", "echo '[    1.0] Booting Linux'");
            std::fs::write(data.join("node.yaml"), ready_node("pi-node-1")).unwrap();
            testkit::fake_cat(bin, "kubectl", &data.join("node.yaml"));
            std::fs::write(data.join("show.txt"), "Id=kubelet.service\nLoadState=loaded\nActiveState=active\nNRestarts=0\n\nId=containerd.service\nLoadState=loaded\nActiveState=active\n").unwrap();
            fake_cmd(bin, "crictl", "echo '{\"status\":{\"conditions\":[{\"type\":\"NetworkReady\",\"status\":true}]}}'");
        },
    );
    let (code, r) = analyze(&bundle);
    assert_eq!(r["verdict"]["status"], "joined", "{:#}", r["findings"]);
    assert_eq!(code, 0);
    assert_eq!(r["facts"]["clock.synced"], true);
    assert!(r["facts"]["clock.measured_offset_abs_s"].as_f64().unwrap() < 1.0);
    assert_eq!(r["facts"]["cert.client.issued_by_cluster_ca"], true);
}

#[test]
fn pi_with_clock_three_days_behind_is_clock_drift_at_phase_3() {
    let t = tempfile::tempdir().unwrap();
    // The real NTP peer is three days ahead of the node.
    let ntp = testkit::NtpServer::start(3.0 * 86400.0);
    let bundle = collect(
        t.path(),
        |root| {
            let mut o = PiOptions::new("pi-node-1");
            o.ntp = Some(format!("127.0.0.1 port {}", ntp.addr.port()));
            o.cert_not_before = now() + 3 * 86400;
            o.cert_not_after = now() + 368 * 86400;
            testkit::kubeadm_pi(root, &o);
        },
        |bin, data| fake_tools(bin, data, &[]),
    );
    let (code, r) = analyze(&bundle);
    assert_eq!(code, 1);
    assert_eq!(
        (
            r["verdict"]["status"].as_str(),
            r["verdict"]["phase"].as_u64(),
            r["verdict"]["cause"].as_str()
        ),
        (Some("failed"), Some(3), Some("clock-drift")),
        "{:#}",
        r["findings"]
    );
    let off = r["facts"]["clock.measured_offset_s"].as_f64().unwrap();
    assert!((off + 259200.0).abs() < 2.0, "{off}");
    let ahead = r["facts"]["cert.client.not_before_ahead_s"]
        .as_f64()
        .unwrap();
    assert!((ahead - 259200.0).abs() < 60.0, "{ahead}");
}

#[test]
fn k3s_agent_with_refused_server() {
    let t = tempfile::tempdir().unwrap();
    let bundle = collect(
        t.path(),
        |root| {
            let mut o = PiOptions::new("pi-k3s-2");
            o.api = "https://127.0.0.1:1".into();
            testkit::k3s_pi(root, &o);
        },
        |bin, data| {
            fake_tools(bin, data, &[("k3s-agent", "2026-11-24T05:58:01.000001+0000 pi-k3s-2 k3s[700]: time=\"2026-11-24T05:58:01Z\" level=error msg=\"failed to get CA certs: Get \\\"https://127.0.0.1:1/cacerts\\\": dial tcp 127.0.0.1:1: connect: connection refused\"\n".to_string())]);
            synced_chrony(bin);
        },
    );
    let (_, r) = analyze(&bundle);
    // Under-voltage is real too (the fake vcgencmd says so), but the join is
    // stopped at phase 2 first.
    assert_eq!(
        r["verdict"]["cause"], "apiserver-unreachable",
        "{:#}",
        r["findings"]
    );
    assert_eq!(r["verdict"]["phase"], 2);
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["cause"] == "power-undervoltage" && f["status"] == "active"));
    assert_eq!(r["facts"]["apiserver.reachable"], false);
}
