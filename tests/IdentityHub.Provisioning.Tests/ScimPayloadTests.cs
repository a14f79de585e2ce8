using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Scim;

namespace IdentityHub.Provisioning.Tests;

/// <summary>What the SCIM client sends, built from a user's state without any server: the User resource and the Group PATCH bodies.</summary>
public sealed class ScimPayloadTests
{
    private static readonly ScimSettings Defaults = new() { BaseUrl = new Uri("https://scim.example/v2") };

    private static ProvisionedUser State(string? employeeNumber = "E100", params ProvisionedPermission[] permissions) =>
        new("u1", "ada", "Ada Lovelace", "ada@example.test", "010 1234", employeeNumber, "SALES", "Sales", "m1", "E001",
            Active: true, Exists: true, ["viewer", "approver", "viewer"], permissions, 7);

    [Fact]
    public void ToResource_UserWithEverything_IsACoreUserWithTheEnterpriseExtension()
    {
        var resource = ScimUser.From(State(), Defaults, managerId: "scim-m1").ToResource();

        Assert.Equal([ScimUser.UserSchema, ScimUser.EnterpriseSchema], resource["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("E100", resource["userName"]!.GetValue<string>());
        Assert.Equal("u1", resource["externalId"]!.GetValue<string>());
        Assert.Equal("Ada Lovelace", resource["name"]!["formatted"]!.GetValue<string>());
        Assert.True(resource["active"]!.GetValue<bool>());
        Assert.Equal("""[{"value":"ada@example.test","type":"work","primary":true}]""", resource["emails"]!.ToJsonString());
        Assert.Equal("""[{"value":"010 1234","type":"work"}]""", resource["phoneNumbers"]!.ToJsonString());
        Assert.Equal("""[{"value":"approver"},{"value":"viewer"}]""", resource["roles"]!.ToJsonString());
        Assert.Equal("""{"employeeNumber":"E100","department":"Sales","manager":{"value":"scim-m1"}}""", resource[ScimUser.EnterpriseSchema]!.ToJsonString());
        Assert.Null(resource[ScimUser.ProvisioningSchema]);
    }

    [Fact]
    public void ToResource_VersionExtensionOn_CarriesTheStateVersion()
    {
        var resource = ScimUser.From(State(), Defaults with { VersionExtension = true }, managerId: null).ToResource();

        Assert.Contains(ScimUser.ProvisioningSchema, resource["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(7, resource[ScimUser.ProvisioningSchema]!["version"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("E100", ScimUserNameSource.EmployeeNumber, "E100")]
    [InlineData("  ", ScimUserNameSource.EmployeeNumber, "ada")]
    [InlineData(null, ScimUserNameSource.EmployeeNumber, "ada")]
    [InlineData("E100", ScimUserNameSource.UserName, "ada")]
    public void UserNameOf_Source_EmployeeNumberUnlessMissingOrAskedOtherwise(string? employeeNumber, ScimUserNameSource source, string expected) =>
        Assert.Equal(expected, ScimUser.UserNameOf(State(employeeNumber), Defaults with { UserName = source }));

    [Theory]
    [InlineData(null, null, "", "expense.approve", null, null)]
    [InlineData("SALES", "Company / Sales", "", "expense.approve", "SALES", "Company / Sales")]
    [InlineData("SALES", "Sales", "amountLimit=5000", "expense.approve", "SALES", "Sales; amountLimit=5000")]
    [InlineData(null, null, "b=2,a=1", "expense.approve", null, "a=1; b=2")]
    public void EntitlementOf_ScopeAndParameters_TypeIsTheScopeCodeAndDisplayTheScopeAndSortedParameters(
        string? code, string? scope, string parameters, string name, string? type, string? display)
    {
        var values = parameters.Length == 0 ? new Dictionary<string, string>()
            : parameters.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);

        var entitlement = ScimUser.EntitlementOf(new ProvisionedPermission(name, values, code, scope));

        Assert.Equal(new ScimEntitlement(name, type, display), entitlement);
    }

    [Fact]
    public void Parse_WhatWasSent_ComparesEqual()
    {
        var sent = ScimUser.From(State(permissions: new ProvisionedPermission("expense.approve", new Dictionary<string, string> { ["amountLimit"] = "5000" }, "SALES", "Sales")),
            Defaults, managerId: "scim-m1");
        using var json = JsonDocument.Parse(sent.ToResource().ToJsonString());

        Assert.Empty(sent.Differences(ScimUser.Parse(json.RootElement)));
    }

    [Fact]
    public void Differences_ChangedDownstream_NamesTheScimAttributes()
    {
        var sent = ScimUser.From(State(), Defaults, managerId: null);
        var resource = sent.ToResource();
        resource["active"] = false;
        resource["userName"] = "e100";
        resource["roles"] = new JsonArray(new JsonObject { ["value"] = "root" });
        using var json = JsonDocument.Parse(resource.ToJsonString());

        // RFC 7643 §4.1.1: userName compares case-insensitively, so only active and roles differ.
        Assert.Equal(["active", "roles"], sent.Differences(ScimUser.Parse(json.RootElement)));
    }

    [Fact]
    public void NewGroup_Role_IsAGroupNamedAfterTheRoleWithTheUserAsMember() =>
        Assert.Equal(
            """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"approver","members":[{"value":"scim-1"}]}""",
            ScimGroups.NewGroup("approver", "scim-1").ToJsonString());

    [Fact]
    public void AddMember_User_IsAPatchAddToMembers() =>
        Assert.Equal(
            """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"scim-1"}]}]}""",
            ScimGroups.AddMember("scim-1").ToJsonString());

    [Fact]
    public void RemoveMember_UserIdWithAQuote_IsAPatchRemoveWithAnEscapedValueFilter() =>
        Assert.Equal(
            """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \u0022a\\\u0022b\u0022]"}]}""",
            ScimGroups.RemoveMember("a\"b").ToJsonString());
}
