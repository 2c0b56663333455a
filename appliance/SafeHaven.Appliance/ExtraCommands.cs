using System.CommandLine;
using SafeHaven.WhitelistModel.Cli;

namespace SafeHaven.Appliance;

/// <summary>Commands contributed by the other parts of the appliance.</summary>
internal static class ExtraCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return WhitelistCommand.Create();
    }
}
