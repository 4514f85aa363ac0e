using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
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
            global.AllowPlainHttp,
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

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var parse = Build(context).Parse(args);
        var configuration = new InvocationConfiguration { Output = context.Out, Error = context.Error };
        if (parse.Errors.Count == 0)
        {
            return await parse.InvokeAsync(configuration, cancellationToken);
        }
        // A usage error: what is wrong (with System.CommandLine's "did you mean"), and where the
        // help is, rather than the whole help after it; exit 2 as the README says.
        if (parse.Action is ParseErrorAction errors)
        {
            errors.ShowHelp = false;
            var said = new StringWriter();
            await parse.InvokeAsync(new InvocationConfiguration { Output = said, Error = said }, cancellationToken);
            foreach (var line in said.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await context.Error.WriteLineAsync($"exchange: {line}");
            }
        }
        await context.Error.WriteLineAsync($"Run '{CommandPath(parse.CommandResult)} --help' for usage.");
        return ExitCodes.Usage;
    }

    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? at = command; at is CommandResult c; at = c.Parent)
        {
            names.Insert(0, c.Parent is null ? "exchange" : c.Command.Name);
        }
        return string.Join(' ', names);
    }
}
