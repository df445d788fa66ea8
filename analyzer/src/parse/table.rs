//! `kubectl get csr`: which certificate signing requests wait for approval.

/// One CSR row: name, requestor, condition (`Pending`, `Approved,Issued`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    pub name: String,
    pub requestor: String,
    pub condition: String,
    /// 0-based line.
    pub line: usize,
}

impl Csr {
    pub fn pending(&self) -> bool {
        self.condition == "Pending"
    }

    /// Approved but never signed: the signer (controller manager) is not running.
    pub fn approved_not_issued(&self) -> bool {
        self.condition.contains("Approved") && !self.condition.contains("Issued")
    }
}

/// Rows of `kubectl get csr` (1.18 and older: NAME AGE REQUESTOR CONDITION;
/// newer add SIGNERNAME and REQUESTEDDURATION).
pub fn csrs(text: &str) -> Vec<Csr> {
    let mut cols: Option<(usize, usize)> = None;
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.first() == Some(&"NAME") && w.last() == Some(&"CONDITION") {
            let req = w.iter().position(|c| *c == "REQUESTOR");
            cols = req.map(|r| (r, w.len() - 1));
            continue;
        }
        let Some((req, cond)) = cols else { continue };
        if w.len() != cond + 1 {
            continue;
        }
        out.push(Csr {
            name: w[0].to_string(),
            requestor: w[req].to_string(),
            condition: w[cond].to_string(),
            line: i,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_tables() {
        let new = "NAME        AGE   SIGNERNAME                                    REQUESTOR                 REQUESTEDDURATION   CONDITION
csr-8xv9k   2m    kubernetes.io/kube-apiserver-client-kubelet   system:bootstrap:abcdef   <none>              Pending
csr-2pq7m   9d    kubernetes.io/kube-apiserver-client-kubelet   system:node:pi-1          <none>              Approved,Issued
";
        let r = csrs(new);
        assert_eq!(r.len(), 2);
        assert!(r[0].pending());
        assert_eq!(r[0].requestor, "system:bootstrap:abcdef");
        let old = "NAME                                                   AGE       REQUESTOR                 CONDITION
node-csr-1zyV7yC3yU0hHq4i6P_PLp0ddsUf6Nh9WQxRj7oHkGM   1m        system:bootstrap:2v0fj1   Approved
";
        let r = csrs(old);
        assert!(r[0].approved_not_issued());
    }
}
