using Exchange.Cli;

return await CliApp.RunAsync(args, new CliContext());
