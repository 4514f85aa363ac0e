using System.CommandLine;

namespace Exchange.Cli.Tests;

/// <summary>The CLI's commands as a user types them, read from the command tree, for tests generated over every command.</summary>
internal static class CommandTree
{
    /// <summary>Every command that runs something, with the words that name it.</summary>
    public static List<(string[] Path, Command Command)> All() => [.. Commands(CliApp.Build(new CliContext()), [])];

    private static IEnumerable<(string[] Path, Command Command)> Commands(Command command, string[] path)
    {
        if (command.Action is not null)
        {
            yield return (path, command);
        }
        foreach (var sub in command.Subcommands)
        {
            foreach (var found in Commands(sub, [.. path, sub.Name]))
            {
                yield return found;
            }
        }
    }
}
