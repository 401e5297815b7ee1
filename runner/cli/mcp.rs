//! `perfgate mcp [--print-config]`: the MCP server over stdio for coding
//! agents, or the JSON that registers it with an MCP client.

use super::{CliError, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct McpArgs {
    /// Print the JSON that registers this server with an MCP client (Claude Code's `.mcp.json`,
    /// Cursor's `.cursor/mcp.json`, ...) instead of serving.
    #[arg(long)]
    pub print_config: bool,
}

pub fn run(args: McpArgs) -> Result<i32, CliError> {
    if args.print_config {
        crate::out!("{}\n", config_snippet().map_err(CliError::run_failed)?);
        return Ok(EXIT_OK);
    }
    let cwd = std::env::current_dir().map_err(|e| CliError::run_failed(anyhow::anyhow!(e)))?;
    crate::mcp::serve(cwd).map_err(CliError::run_failed)?;
    Ok(EXIT_OK)
}

/// `{"mcpServers": {"perfgate": {"command": <this binary>, "args": ["mcp"]}}}`.
fn config_snippet() -> anyhow::Result<String> {
    let exe = std::env::current_exe()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let value = serde_json::json!({
        "mcpServers": {
            "perfgate": {
                "type": "stdio",
                "command": exe.display().to_string(),
                "args": ["mcp"],
            }
        }
    });
    Ok(serde_json::to_string_pretty(&value)?)
}
