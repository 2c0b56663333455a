using System.CommandLine;
using SafeHaven.Appliance;

var root = new RootCommand("SafeHaven: package mirrors and airlock for secure research environments.");
root.Subcommands.Add(ServeCommand.Create());
foreach (var command in ExtraCommands.Create())
{
    root.Subcommands.Add(command);
}
return await root.Parse(args).InvokeAsync();
