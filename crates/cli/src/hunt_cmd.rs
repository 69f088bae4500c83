use crate::args::{ConfigArgs, HuntArgs};
use std::process::ExitCode;
pub fn run(_a: HuntArgs) -> Result<ExitCode, String> { Err("todo".into()) }
pub fn config(_a: ConfigArgs) -> Result<ExitCode, String> { Err("todo".into()) }
