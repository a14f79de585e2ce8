using IdentityHub.Saml.Protocol;

namespace IdentityHub.Saml.Tests;

public sealed class SafeXmlTests
{
    [Fact]
    public void Parse_ExternalEntity_IsRefused()
    {
        var xxe = """<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>""";

        var error = Assert.Throws<SamlProtocolException>(() => SafeXml.Parse(xxe));

        Assert.Contains("DTD", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EntityExpansionBomb_IsRefused()
    {
        var bomb = """<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>""";

        Assert.Throws<SamlProtocolException>(() => SafeXml.Parse(bomb));
    }

    [Fact]
    public void Parse_DuplicateIds_IsRefused()
    {
        var xml = """<a ID="_1"><b ID="_1"/></a>""";

        var error = Assert.Throws<SamlProtocolException>(() => SafeXml.Parse(xml));

        Assert.Contains("more than once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OversizedMessage_IsRefused()
    {
        var xml = "<a>" + new string('x', SafeXml.MaxMessageChars) + "</a>";

        Assert.Throws<SamlProtocolException>(() => SafeXml.Parse(xml));
    }

    [Fact]
    public void Parse_ManyPredefinedEntities_AreReadDespiteTheEntityCap()
    {
        // The cap on entity expansion is for declared entities (impossible without a DTD), not &amp; and character references.
        var text = string.Concat(Enumerable.Repeat("a&amp;b&#x41;", SafeXml.MaxCharactersFromEntities * 2));

        var document = SafeXml.Parse($"<a>{text}</a>");

        Assert.Equal(string.Concat(Enumerable.Repeat("a&bA", SafeXml.MaxCharactersFromEntities * 2)), document.DocumentElement!.InnerText);
    }

    [Fact]
    public void Parse_CommentInsideText_IsDroppedSoTheWholeValueIsRead()
    {
        var document = SafeXml.Parse("<a>admin@example.test<!-- -->.evil.test</a>");

        Assert.Equal("admin@example.test.evil.test", document.DocumentElement!.InnerText);
        Assert.DoesNotContain("<!--", document.OuterXml, StringComparison.Ordinal);
    }
}
