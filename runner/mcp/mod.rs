//! `perfgate mcp`: a Model Context Protocol server over stdio (rmcp) that a
//! coding agent starts in a repository. Its tools drive the same stages as
//! the CLI (a compare runs as `perfgate compare` in the background) and
//! answer from `Results`. stdout is the protocol; logs go to stderr.

pub mod answers;
pub mod jobs;
pub mod tools;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use std::path::PathBuf;
use std::sync::Arc;

const INSTRUCTIONS: &str = "perfgate measures performance changes: baseline vs candidate in interleaved rounds \
until the verdicts settle, with confidence intervals. Back every performance claim with its numbers: \
start_compare (bounded by max_time), poll run_status, then get_results and get_findings; profile_top, \
profile_diff and flame_query show where the time goes. An `inconclusive` row is not a win: it says what \
it would need.";

#[derive(Clone)]
struct Server {
    ctx: Arc<tools::Context>,
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("perfgate", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::list()))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        tools::list().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let ctx = self.ctx.clone();
        let name = request.name.to_string();
        let args = serde_json::Value::Object(request.arguments.unwrap_or_default());
        // Tools read files and decode profiles: off the protocol's threads,
        // and a panic in one becomes that call's error, not the server's end.
        let answer = tokio::task::spawn_blocking(move || tools::call(&ctx, &name, args))
            .await
            .unwrap_or_else(|e| Err(format!("internal error in the tool: {e}")));
        Ok(match answer {
            Ok((text, value)) => {
                let mut r = CallToolResult::structured(value);
                r.content = vec![ContentBlock::text(text)];
                r
            }
            Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
        }
        .into())
    }
}

/// Serves until the client closes stdin; then cancels the run in progress
/// and waits for it to write its partial results.
pub fn serve(cwd: PathBuf) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let state = crate::variant::Repo::discover(&cwd)
        .map(|r| r.state_dir())
        .unwrap_or_else(|_| std::env::temp_dir().join("perfgate-mcp"))
        .join("mcp");
    let jobs = jobs::Jobs::new(exe, cwd.clone(), state);
    let server = Server { ctx: Arc::new(tools::Context { cwd, jobs: jobs.clone() }) };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(async move {
        let running = server.serve(rmcp::transport::stdio()).await?;
        running.waiting().await?;
        anyhow::Ok(())
    });
    jobs.shutdown();
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}
