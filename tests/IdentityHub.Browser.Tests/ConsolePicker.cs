using Microsoft.Playwright;

namespace IdentityHub.Browser.Tests;

/// <summary>Chooses in a console picker (a combobox over the server's search) the way a mouse user does.</summary>
internal static class ConsolePicker
{
    /// <summary>Types <paramref name="text"/>, waits for the match whose label starts with <paramref name="label"/>, and clicks it.</summary>
    public static async Task PickAsync(ILocator input, string text, string label)
    {
        ArgumentNullException.ThrowIfNull(input);
        await input.FillAsync(text);
        var listbox = input.Page.Locator($"#{await input.GetAttributeAsync("id")}-listbox");
        await listbox.GetByRole(AriaRole.Option).Filter(new() { HasText = label }).First.ClickAsync(new() { Timeout = 120_000 });
        await Assertions.Expect(input).ToHaveValueAsync(
            new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(label)), new() { Timeout = 120_000 });
    }
}
