//! `Parameters` over SSM Parameter Store.

use async_trait::async_trait;
use aws_sdk_ssm::types::{ParameterType, Tag};

use super::{AwsCloud, AwsContext, OrGone};
use crate::cloud::{CloudResult, ErrorKind, Parameters, Tags};

fn ssm_tags(tags: &Tags, about: &str) -> CloudResult<Vec<Tag>> {
    tags.iter()
        .map(|(key, value)| {
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .context("PutParameter", about)
        })
        .collect()
}

#[async_trait]
impl Parameters for AwsCloud {
    async fn create_parameter(&self, name: &str, value: &str, tags: &Tags) -> CloudResult<bool> {
        let about = format!("parameter {name}");
        // Without Overwrite, PutParameter fails with ParameterAlreadyExists when the name is
        // taken: the one atomic create-if-absent SSM has. (Tags are only allowed here, on a
        // create, which is what ekspec wants anyway.)
        let created = self
            .ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(false)
            .set_tags(Some(ssm_tags(tags, &about)?))
            .send()
            .await
            .context("PutParameter", &about);
        match created {
            Ok(_) => Ok(true),
            Err(error) if error.kind == ErrorKind::AlreadyExists => Ok(false),
            Err(error) => Err(error),
        }
    }

    async fn get_parameter(&self, name: &str) -> CloudResult<Option<String>> {
        let output = self
            .ssm
            .get_parameter()
            .name(name)
            .send()
            .await
            .context("GetParameter", format!("parameter {name}"))
            .or_gone()?;
        Ok(output.and_then(|o| o.parameter?.value))
    }

    async fn overwrite_parameter(&self, name: &str, value: &str) -> CloudResult<()> {
        self.ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .context("PutParameter", format!("parameter {name}"))?;
        Ok(())
    }

    async fn delete_parameter(&self, name: &str) -> CloudResult<()> {
        self.ssm
            .delete_parameter()
            .name(name)
            .send()
            .await
            .context("DeleteParameter", format!("parameter {name}"))
            .or_gone()?;
        Ok(())
    }
}
