//! The service key: from configuration, or generated once into the data directory.

use anyhow::Context;
use std::path::Path;

/// File (in the data directory) that keeps a generated service key.
pub const SERVICE_KEY_FILE: &str = "service_key";

/// File (in the data directory) that keeps a generated JWT signing secret.
pub const JWT_SECRET_FILE: &str = "jwt_secret";

/// Returns the configured key, or the one kept in `data_dir` (creating it on first use,
/// readable by the owner only).
pub fn load_or_create_service_key(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<String> {
    load_or_create_secret(configured, data_dir, SERVICE_KEY_FILE, "fb_sk_")
}

/// A secret from configuration, or generated once into `data_dir/file` (mode 0600).
pub fn load_or_create_secret(
    configured: Option<&str>,
    data_dir: &Path,
    file: &str,
    prefix: &str,
) -> anyhow::Result<String> {
    if let Some(k) = configured {
        return Ok(k.to_string());
    }
    let path = data_dir.join(file);
    if let Ok(k) = std::fs::read_to_string(&path) {
        let k = k.trim().to_string();
        if !k.is_empty() {
            return Ok(k);
        }
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let key = format!("{prefix}{}", super::sessions::new_token());
    write_private(&path, &key).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}
