//! What may leave the node. Structured files keep a value only when its key is
//! on `KEYS` (or sits under a key on `SUBTREES`) and is not secret-named; every
//! other value becomes a length marker. Keys are compared normalized: lower
//! case, letters and digits only (`node-ip`, `nodeIP` and `NODE_IP` are equal).
//!
//! Checked against what the analyzer reads (analyzer/src/extract.rs, node.rs,
//! certs.rs, rules/*.toml): kubeconfig `server`, `certificate-authority-data`,
//! `client-certificate-data`, `client-certificate`; kubelet `cgroupDriver`,
//! `failSwapOn`, `resolvConf`; containerd `SystemdCgroup`, `disabled_plugins`;
//! CNI `type`, `plugins`, `name`; `--fail-swap-on=false` in the kubelet's
//! argument variables; crictl `status.conditions` `type`/`status`/`reason`/`message`.

/// Normalize a key: lower case, ASCII letters and digits only.
pub fn norm(key: &[u8]) -> String {
    key.iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// Scalar keys whose values are kept (normalized, sorted).
const KEYS: &[&str] = &[
    // kubeconfig
    "apiversion",
    "certificateauthority",
    "certificateauthoritydata",
    "clientcertificate",
    "clientcertificatedata",
    "clientkey",
    "cluster",
    "currentcontext",
    "disablecompression",
    "insecureskiptlsverify",
    "kind",
    "name",
    "namespace",
    "proxyurl",
    "server",
    "tlsservername",
    "user",
    "command",
    "installhint",
    "interactivemode",
    "provideclusterinfo",
    // kubelet configuration
    "address",
    "authorizationmode",
    "cachettl",
    "cacheauthorizedttl",
    "cacheunauthorizedttl",
    "cgroupdriver",
    "cgrouproot",
    "cgroupsperqos",
    "clientcafile",
    "clusterdns",
    "clusterdomain",
    "containerlogmaxfiles",
    "containerlogmaxsize",
    "containerruntimeendpoint",
    "cpumanagerpolicy",
    "enabled",
    "enableserver",
    "enforcenodeallocatable",
    "evictionpressuretransitionperiod",
    "failswapon",
    "fileCheckFrequency",
    "format",
    "hairpinmode",
    "healthzbindaddress",
    "healthzport",
    "imagegchighthresholdpercent",
    "imagegclowthresholdpercent",
    "imageminimumgcage",
    "imageserviceendpoint",
    "kubeletcgroups",
    "maxpods",
    "memoryswap",
    "mode",
    "nodestatusreportfrequency",
    "nodestatusupdatefrequency",
    "podcidr",
    "podpidslimit",
    "port",
    "protectkerneldefaults",
    "providerid",
    "readonlyport",
    "registernode",
    "resolvconf",
    "rotatecertificates",
    "runtimerequesttimeout",
    "serializeimagepulls",
    "servertlsbootstrap",
    "shutdowngraceperiod",
    "shutdowngraceperiodcriticalpods",
    "staticpodpath",
    "swapbehavior",
    "syncfrequency",
    "systemcgroups",
    "tlscertfile",
    "tlsciphersuites",
    "tlsminversion",
    "tlsprivatekeyfile",
    "verbosity",
    "volumepluginDir",
    "volumestatsaggperiod",
    "effect",
    // kubeadm configuration
    "advertiseaddress",
    "apiserverendpoint",
    "bindport",
    "cacerthashes",
    "certificatesdir",
    "certsans",
    "clustername",
    "controlplaneendpoint",
    "crisocket",
    "datadir",
    "dnsdomain",
    "groups",
    "ignorepreflighterrors",
    "imagepullpolicy",
    "imagerepository",
    "imagetag",
    "kubeconfigpath",
    "kubernetesversion",
    "podsubnet",
    "servicesubnet",
    "timeout",
    "ttl",
    "unsafeskipcaverification",
    "usages",
    "description",
    "endpoints",
    "cafile",
    "certfile",
    "keyfile",
    "skipphases",
    // k3s / rke2 config.yaml
    "agenttokenfile",
    "clustercidr",
    "clusterinit",
    "containerruntimeendpoint",
    "debug",
    "defaultruntime",
    "disable",
    "disableapparmor",
    "disablecloudcontroller",
    "disablekubeproxy",
    "disablenetworkpolicy",
    "disablescheduler",
    "embeddedregistry",
    "flannelbackend",
    "flannelexternalip",
    "flanneliface",
    "flannelipv6masq",
    "kubeletarg",
    "kubeproxyarg",
    "lbserverport",
    "logfile",
    "nodeexternalip",
    "nodeip",
    "nodelabel",
    "nodename",
    "nodetaint",
    "pauseimage",
    "preferbundledbin",
    "resolvconf",
    "selinux",
    "servicecidr",
    "snapshotter",
    "systemdefaultregistry",
    "tlssan",
    "tokenfile",
    "v",
    "withnodeid",
    "writekubeconfig",
    "writekubeconfigmode",
    "alsologtostderr",
    "cni",
    "profile",
    "airgapextraregistry",
    "imagecredentialproviderbindir",
    "imagecredentialproviderconfig",
    "privateregistry",
    // registries.yaml and containerd hosts
    "endpoint",
    "insecureskipverify",
    "capabilities",
    "overridepath",
    "skipverify",
    "ca",
    // crictl.yaml
    "runtimeendpoint",
    "imageendpoint",
    "pullimageoncreate",
    "disablepullonrun",
    // containerd and CRI-O
    "version",
    "root",
    "state",
    "tempdir",
    "pluginDir",
    "disabledplugins",
    "requiredplugins",
    "ociruntimeoverhead",
    "systemdcgroup",
    "sandboximage",
    "defaultruntimename",
    "runtimetype",
    "binaryname",
    "bindir",
    "confdir",
    "conftemplate",
    "maxconfnum",
    "ipprefgroup",
    "configpath",
    "level",
    "uid",
    "gid",
    "enableselinux",
    "selinuxcategoryrange",
    "enableunprivilegedports",
    "enableunprivilegedicmp",
    "enablecdi",
    "cdispecdirs",
    "maxcontainerloglinesize",
    "disablecgroup",
    "disableapparmor",
    "restrictoomscoreadj",
    "cgroupmanager",
    "conmoncgroup",
    "networkdir",
    "plugindirs",
    "pauseimageauthfile",
    "defaultruntime",
    "runtimepath",
    "runtimeroot",
    "logdir",
    "storagedriver",
    "runroot",
    "snapshotannotations",
    "discardunpackedlayers",
    "noprivot",
    "privilegedwithouthostdevices",
    // CNI and flannel
    "bridge",
    "cniversion",
    "dst",
    "gateway",
    "gw",
    "ipmasq",
    "isdefaultgateway",
    "isgateway",
    "mtu",
    "network",
    "plugins",
    "rangeend",
    "rangestart",
    "subnet",
    "subnetlen",
    "type",
    "vni",
    "directrouting",
    "backend",
    "enableipv4",
    "enableipv6",
    "ipv6network",
    "master",
    "forceaddress",
    "snat",
    "portmappings",
    "kubeconfig",
    "logfilepath",
    "loglevel",
    "datastoretype",
    "nodenamefile",
    "mtufilepath",
    "ipam",
    "routes",
    "ranges",
    "delegate",
    "ipv6subnetlen",
    "serverurl",
    "serveraddresses",
    "defaultserveraddress",
    "listener",
    // docker daemon.json
    "execopts",
    "cgroupparent",
    "logdriver",
    "registrymirrors",
    "insecureregistries",
    "dns",
    "bip",
    "iptables",
    "ipforward",
    "ip6tables",
    "experimental",
    "liverestore",
    // crictl info conditions
    "status",
    "reason",
    "message",
    "conditions",
    "lastcniloadstatus",
    "runtimehandlers",
];

/// Keys whose whole subtree is kept (values still scrubbed as free text).
const SUBTREES: &[&str] = &[
    "capabilities",
    "evictionhard",
    "evictionsoft",
    "evictionsoftgraceperiod",
    "featuregates",
    "kubeletextraargs",
    "kubereserved",
    "labels",
    "logopts",
    "mirrors",
    "nodelabels",
    "rewrite",
    "systemreserved",
    "taints",
    "registerwithtaints",
    "extraargs",
];

/// Environment variables (env files, `Environment=`) whose values are kept.
const ENV: &[&str] = &[
    "confmaxswap",
    "confswapfactor",
    "confswapfile",
    "confswapsize",
    "algo",
    "percent",
    "size",
    "priority",
    "flannelipmasq",
    "flannelmtu",
    "flannelnetwork",
    "flannelsubnet",
    "flannelipv6network",
    "flannelipv6subnet",
    "home",
    "httpproxy",
    "httpsproxy",
    "noproxy",
    "allproxy",
    "k3sdatadir",
    "k3skubeconfigmode",
    "k3snodeip",
    "k3snodename",
    "k3surl",
    "k3sconfigfile",
    "k3sresolvconf",
    "k3sselinux",
    "rke2url",
    "kubeletargs",
    "kubeletconfigargs",
    "kubeletextraargs",
    "kubeletkubeadmargs",
    "kubeletkubeconfigargs",
    "kubeletsystempodsargs",
    "kubeletnetworkargs",
    "kubeletdnsargs",
    "kubeletauthzargs",
    "kubeletcadvisorargs",
    "kubeletcertificateargs",
    "lang",
    "lcall",
    "path",
    "systemdcgroup",
    "containerdaddress",
    "containerruntimeendpoint",
    "nodeip",
    "nodename",
];

/// Command-line flags (without dashes, normalized) whose values are kept.
const FLAGS: &[&str] = &[
    "address",
    "alsologtostderr",
    "authenticationtokenwebhook",
    "authorizationmode",
    "bootstrapkubeconfig",
    "certdir",
    "cgroupdriver",
    "cgroupsperqos",
    "clientcafile",
    "cloudprovider",
    "clustercidr",
    "clusterdns",
    "clusterdomain",
    "cniconfdir",
    "cnibindir",
    "config",
    "containerruntime",
    "containerruntimeendpoint",
    "datadir",
    "defaultruntime",
    "disable",
    "enforcenodeallocatable",
    "evictionhard",
    "failswapon",
    "featuregates",
    "flannelbackend",
    "flanneliface",
    "hostnameoverride",
    "imagegchighthreshold",
    "kubeconfig",
    "kubeletarg",
    "kubeproxyarg",
    "kubereserved",
    "lbserverport",
    "logfile",
    "logtostderr",
    "maxpods",
    "networkplugin",
    "nodeexternalip",
    "nodeip",
    "nodelabel",
    "nodelabels",
    "nodename",
    "nodetaint",
    "pauseimage",
    "podcidr",
    "podinfracontainerimage",
    "port",
    "protectkerneldefaults",
    "providerid",
    "readonlyport",
    "registerwithtaints",
    "resolvconf",
    "rootdir",
    "rotatecertificates",
    "runtimecgroups",
    "runtimerequesttimeout",
    "selinux",
    "server",
    "servicecidr",
    "snapshotter",
    "systemdefaultregistry",
    "systemreserved",
    "tlscertfile",
    "tlsprivatekeyfile",
    "tlssan",
    "tokenfile",
    "v",
    "withnodeid",
    "writekubeconfigmode",
    "apiserveradvertiseaddress",
    "controlplane",
    "discoverytokencacerthash",
    "ignorepreflighterrors",
    "crisocket",
    "skipphases",
    "cgroupdriver",
    "kubeletcgroups",
    "systemcgroups",
    "containerlogmaxsize",
    "serializeimagepulls",
    "volumepluginDir",
];

fn has(list: &[&str], n: &str) -> bool {
    list.iter().any(|k| k.eq_ignore_ascii_case(n))
}

/// Suffixes of key names that carry secrets, normalized.
const SECRET_ENDINGS: &[&str] = &[
    "token",
    "tokens",
    "password",
    "passwd",
    "passphrase",
    "secret",
    "secrets",
    "secretkey",
    "apikey",
    "accesskey",
    "accesskeyid",
    "privatekey",
    "certificatekey",
    "keydata",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "cookie",
    "joinkey",
    "signingkey",
    "encryptionkey",
    "sharedkey",
    "psk",
    "masterkey",
    "accountkey",
    "sessionkey",
    "pwd",
    "datastoreendpoint",
    "secretid",
    "clientsecret",
    "encryptionsecret",
    "signature",
    "authkey",
    "stringdata",
    "privatekeyid",
    "connectionstring",
    "wepkey",
    "creds",
    "bearer",
    "requirepass",
    "passwordhash",
    "pwdhash",
    "passhash",
    "privkey",
    "nlpriv",
    "sessionid",
];

/// True when a key's name says its value is a secret (`K3S_TOKEN`, `vpn-auth`,
/// `etcd-s3-secret-key`, `client-key-data`, `x-api-key`, `PASSWD`).
pub fn secret_name(key: &[u8]) -> bool {
    // Every word of every log line comes here: decide on the stack.
    const CAP: usize = 128;
    let body = &key[key.iter().take_while(|b| **b == b'-').count()..];
    if body.len() > CAP {
        return secret_name_slow(key);
    }
    let (mut rb, mut nb) = ([0u8; CAP], [0u8; CAP]);
    let mut nl = 0;
    for (i, b) in body.iter().enumerate() {
        rb[i] = b.to_ascii_lowercase();
        if b.is_ascii_alphanumeric() {
            nb[nl] = rb[i];
            nl += 1;
        }
    }
    let raw = &rb[..body.len()];
    let full = &nb[..nl];
    // `wep_key0`, `password2`: a numbered secret is a secret.
    let n = &full[..full.len() - full.iter().rev().take_while(|b| b.is_ascii_digit()).count()];
    named_secret(key, raw, n)
}

/// The decision on a key lowered without its leading dashes (`raw`) and
/// normalized without trailing digits (`n`).
fn named_secret(key: &[u8], raw: &[u8], n: &[u8]) -> bool {
    let Some(&last) = n.last() else {
        return false;
    };
    // The last byte first: a slice comparison is a memcmp call.
    if SECRET_ENDINGS
        .iter()
        .any(|e| e.as_bytes().last() == Some(&last) && n.ends_with(e.as_bytes()))
    {
        return true;
    }
    matches!(raw, b"pass" | b"sig" | b"pw" | b"pin")
        || [&b"_pin"[..], b"-pin", b"_pw", b"-pw", b"_pass", b"-pass"]
            .iter()
            .any(|e| raw.ends_with(e))
        || env_key(key)
        || n.windows(17).any(|w| w == b"datastoreendpoint")
}

/// The same decision with heap buffers, for keys too long for the stack.
fn secret_name_slow(key: &[u8]) -> bool {
    let raw: Vec<u8> = key
        .iter()
        .skip_while(|b| **b == b'-')
        .map(u8::to_ascii_lowercase)
        .collect();
    let n = norm(&raw);
    let n = n.trim_end_matches(|c: char| c.is_ascii_digit());
    named_secret(key, &raw, n.as_bytes())
}

/// An environment variable named `*_KEY` (`APP_KEY`, `HMAC_KEY`), upper
/// case as environment variables are; not `*PUBLIC_KEY`/`*_PUBKEY`.
fn env_key(key: &[u8]) -> bool {
    key.len() > 4
        && key.ends_with(b"_KEY")
        && key
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        && !key.ends_with(b"PUBLIC_KEY")
}

/// Whether a structured value under `key` (with `parents`, outermost first) is kept.
pub fn keep_value(key: &[u8], parents: &[Vec<u8>]) -> bool {
    // Containers named like secrets hold their secret in a child (kubeadm's
    // `bootstrapToken: {token, apiServerEndpoint, caCertHashes}`): only those
    // listed here let public siblings through.
    let open = |p: &Vec<u8>| matches!(norm(p).as_str(), "bootstraptoken" | "bootstraptokens");
    if secret_name(key) || parents.iter().any(|p| secret_name(p) && !open(p)) {
        return false;
    }
    let n = norm(key);
    has(KEYS, &n) || parents.iter().any(|p| has(SUBTREES, &norm(p)))
}

/// Whether an environment variable's value is kept.
pub fn keep_env(name: &[u8]) -> bool {
    !secret_name(name) && has(ENV, &norm(name))
}

/// Whether a command-line flag's value is kept (`--node-ip`, `-v`).
pub fn keep_flag(flag: &[u8]) -> bool {
    !secret_name(flag) && has(FLAGS, &norm(flag))
}

/// Systemd unit keys whose values are kept as they are (after free-text scrubbing).
pub fn keep_unit_key(key: &[u8]) -> bool {
    const UNIT: &[&str] = &[
        "after",
        "alias",
        "before",
        "bindsto",
        "conditionfileisexecutable",
        "conditionpathexists",
        "cpuaccounting",
        "delegate",
        "description",
        "documentation",
        "environmentfile",
        "group",
        "killmode",
        "limitcore",
        "limitnofile",
        "limitnproc",
        "memoryaccounting",
        "notifyaccess",
        "oomscoreadjust",
        "partof",
        "requires",
        "restart",
        "restartsec",
        "slice",
        "startlimitburst",
        "startlimitinterval",
        "startlimitintervalsec",
        "tasksmax",
        "timeoutsec",
        "timeoutstartsec",
        "timeoutstopsec",
        "type",
        "user",
        "wantedby",
        "wants",
        "workingdirectory",
        "requiredby",
        "conflicts",
        "sendsigkill",
        "killsignal",
        "successexitstatus",
        "remainafterexit",
        "standardoutput",
        "standarderror",
    ];
    has(UNIT, &norm(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_and_heap_secret_names_agree() {
        let mut words: Vec<Vec<u8>> = Vec::new();
        let parts: &[&[u8]] = &[
            b"",
            b"-",
            b"--",
            b"_",
            b"K3S_",
            b"client-",
            b"Data",
            b"store",
            b"X",
            b"9",
            b"public_",
            b"-pin",
            b"_pw",
            b"pass",
            b"sig",
            b"token",
            b"Password",
            b"_KEY",
            b"key",
            b"end",
            b"datastore-endpoint",
            b"secret",
            b"2",
            b"auth",
        ];
        for a in parts {
            for b in parts {
                for c in parts {
                    words.push([*a, *b, *c].concat());
                }
            }
        }
        for e in SECRET_ENDINGS {
            words.push(e.as_bytes().to_vec());
            words.push(format!("x_{}7", e.to_uppercase()).into_bytes());
        }
        words.push(vec![b'a'; 200]);
        for w in &words {
            assert_eq!(
                secret_name(w),
                secret_name_slow(w),
                "{}",
                String::from_utf8_lossy(w)
            );
        }
    }
}
