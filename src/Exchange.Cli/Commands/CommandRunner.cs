using System.CommandLine;
using Exchange.Cli.Connection;
using Grpc.Core;

namespace Exchange.Cli.Commands;

/// <summary>Runs a command's body and turns every expected failure into a message and an exit code.</summary>
internal sealed class CommandRunner(CliContext context, GlobalOptions global)
{
    public CliContext Context => context;

    public GlobalOptions Global => global;

    public async Task<int> RunAsync(Func<CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        try
        {
            await body(cancellationToken);
            return ExitCodes.Success;
        }
        catch (CliException e)
        {
            await context.Error.WriteLineAsync($"exchange: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync("exchange: cancelled");
            return ExitCodes.Failure;
        }
    }

    public Task<int> WithNodeAsync(ParseResult parse, Func<NodeSession, CancellationToken, Task> body, CancellationToken cancellationToken) =>
        RunAsync(ct => InSessionAsync(parse, body, ct), cancellationToken);

    /// <summary>Runs a body against the node; for commands that check their own input first, inside <see cref="RunAsync"/>.</summary>
    public async Task InSessionAsync(ParseResult parse, Func<NodeSession, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        using var session = await NodeSession.OpenAsync(context, parse.GetValue(global.Node), global.AllowsPlainHttp(parse), cancellationToken);
        try
        {
            await body(session, cancellationToken);
        }
        catch (RpcException e)
        {
            throw e.ToCliException(session.Node);
        }
    }
}
