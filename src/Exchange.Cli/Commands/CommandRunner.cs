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
        RunAsync(async ct =>
        {
            using var session = await NodeSession.OpenAsync(context, parse.GetValue(global.Node), ct);
            try
            {
                await body(session, ct);
            }
            catch (RpcException e)
            {
                throw e.ToCliException(session.Node);
            }
        }, cancellationToken);
}
