//! `Parameters` in memory: SSM Parameter Store.

use async_trait::async_trait;

use super::*;

#[async_trait]
impl Parameters for MemoryCloud {
    async fn create_parameter(&self, name: &str, value: &str, tags: &Tags) -> CloudResult<bool> {
        // Give other tasks a chance to run between calls, as a network round trip would, so
        // concurrent tests interleave.
        tokio::task::yield_now().await;
        self.gate("PutParameter")?;
        let mut s = self.lock();
        if s.parameters.contains_key(name) {
            return Ok(false);
        }
        s.parameters
            .insert(name.to_owned(), (value.to_owned(), tags.clone()));
        s.log(format!("PutParameter {name}"));
        Ok(true)
    }

    async fn get_parameter(&self, name: &str) -> CloudResult<Option<String>> {
        tokio::task::yield_now().await;
        self.gate("GetParameter")?;
        Ok(self.lock().parameters.get(name).map(|(v, _)| v.clone()))
    }

    async fn overwrite_parameter(&self, name: &str, value: &str) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("PutParameter")?;
        let mut s = self.lock();
        // As in SSM, overwriting a missing parameter creates it, without tags.
        let entry = s.parameters.entry(name.to_owned()).or_default();
        entry.0 = value.to_owned();
        s.log(format!("PutParameter {name}"));
        Ok(())
    }

    async fn delete_parameter(&self, name: &str) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("DeleteParameter")?;
        let mut s = self.lock();
        s.parameters.remove(name);
        s.log(format!("DeleteParameter {name}"));
        Ok(())
    }
}
