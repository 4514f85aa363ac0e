using System.CommandLine;
using Exchange.Cli.Commands;

namespace Exchange.Cli;

/// <summary>The <c>exchange</c> command tree.</summary>
public static class CliApp
{
    public static RootCommand Build(CliContext context)
    {
        var global = new GlobalOptions();
        var runner = new CommandRunner(context, global);
        var root = new RootCommand("exchange — share AI-model evaluation findings between AI safety institutes")
        {
            global.Node,
            global.Output,
        };
        foreach (var command in LoginCommands.Create(runner, global))
        {
            root.Add(command);
        }
        root.Add(FindingsCommands.Create(runner, global));
        root.Add(ImportCommands.Create(runner, global));
        root.Add(SubscribeCommand.Create(runner, global));
        root.Add(NetworkCommands.Create(runner, global));
        root.Add(AuditCommands.Create(runner, global));
        root.Add(KeysCommands.Create(runner, global));
        root.Add(BrokerCommands.Create(runner));
        root.Add(Demo.DemoCommand.Create(runner));
        return root;
    }

    public static Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var parse = Build(context).Parse(args);
        return parse.InvokeAsync(new InvocationConfiguration { Output = context.Out, Error = context.Error }, cancellationToken);
    }
}
