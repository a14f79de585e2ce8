using IdentityHub.Data.Keys;
using IdentityHub.Server.Hosting.Cluster;
using IdentityHub.Server.Oidc.Keys;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>The key schedule as a pure function: given the stored keys and the time, what is due.</summary>
public sealed class KeyLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly KeySettings Settings = new("RS256", TimeSpan.FromDays(90), TimeSpan.FromDays(2), null, TimeSpan.FromMinutes(1));
    private static readonly TimeSpan Retain = TimeSpan.FromDays(1);

    [Fact]
    public void Plan_NoKeys_CreatesOneActiveNow()
    {
        var plan = KeyLifecycle.Plan([], T0, Settings, Retain);

        Assert.Equal([T0], plan.Create);
        Assert.Empty(plan.Retire);
    }

    [Fact]
    public void Plan_ActiveKeyYoung_DoesNothing()
    {
        var plan = KeyLifecycle.Plan([Key("a", 1, T0)], T0.AddDays(80), Settings, Retain);

        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Plan_PublishAheadReached_CreatesNextKeyActivatingAtTheRotation()
    {
        var plan = KeyLifecycle.Plan([Key("a", 1, T0)], T0.AddDays(88), Settings, Retain);

        Assert.Equal([T0.AddDays(90)], plan.Create);
    }

    [Fact]
    public void Plan_ScheduleMissed_NextKeyStillGetsItsFullPublication()
    {
        var now = T0.AddDays(120);

        var plan = KeyLifecycle.Plan([Key("a", 1, T0)], now, Settings, Retain);

        Assert.Equal([now.AddDays(2)], plan.Create);
    }

    [Fact]
    public void Plan_NextKeyAlreadyPublished_CreatesNoOther()
    {
        var plan = KeyLifecycle.Plan([Key("a", 1, T0), Key("b", 2, T0.AddDays(90))], T0.AddDays(89), Settings, Retain);

        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void StatesAt_NextKeyTimeCome_NextSignsAndTheOldOneIsRetired()
    {
        var keys = new[] { Key("a", 1, T0), Key("b", 2, T0.AddDays(90)) };

        Assert.Equal(KeyState.Next, KeyLifecycle.StatesAt(keys, T0.AddDays(89), Retain)["b"]);
        var states = KeyLifecycle.StatesAt(keys, T0.AddDays(90), Retain);
        Assert.Equal(KeyState.Active, states["b"]);
        Assert.Equal(KeyState.Retired, states["a"]);
    }

    [Fact]
    public void Plan_NextKeyTookOver_RecordsTheRetirementAtItsActivation()
    {
        var plan = KeyLifecycle.Plan([Key("a", 1, T0), Key("b", 2, T0.AddDays(90))], T0.AddDays(90).AddMinutes(3), Settings, Retain);

        Assert.Equal([("a", T0.AddDays(90))], plan.Retire);
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void Plan_RetentionOver_RemovesTheRetiredKey()
    {
        var retired = Key("a", 1, T0, retiredAt: T0.AddDays(90));
        var keys = new[] { retired, Key("b", 2, T0.AddDays(90)) };

        Assert.Empty(KeyLifecycle.Plan(keys, T0.AddDays(91).AddMinutes(-1), Settings, Retain).Remove);
        Assert.Equal(["a"], KeyLifecycle.Plan(keys, T0.AddDays(91), Settings, Retain).Remove);
        Assert.Equal(KeyState.Expired, KeyLifecycle.StatesAt(keys, T0.AddDays(91), Retain)["a"]);
    }

    [Fact]
    public void Plan_NoActiveKeyButANextOne_ActivatesTheNextNow()
    {
        var now = T0.AddDays(10);
        var keys = new[] { Key("a", 1, T0, retiredAt: T0.AddDays(5)), Key("b", 2, T0.AddDays(11)) };

        var plan = KeyLifecycle.Plan(keys, now, Settings, Retain);

        Assert.Equal([("b", now)], plan.Activate);
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void StatesAt_RemovedKey_IsExpiredWhateverItsDates()
    {
        var key = Key("a", 1, T0);
        key.RemovedAt = T0.AddDays(1);

        Assert.Equal(KeyState.Expired, KeyLifecycle.StatesAt([key], T0.AddDays(2), Retain)["a"]);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("00:00:30")]
    public void Plan_PublishAheadShorterThanTwoChecks_NextKeyWaitsTwoCheckIntervals(string publishAhead)
    {
        // Issue 19: a node that missed the change notice loads the key at its next check; none may sign with it before.
        var settings = Settings with { PublishAhead = TimeSpan.Parse(publishAhead, System.Globalization.CultureInfo.InvariantCulture) };
        var now = T0.AddDays(90);

        var plan = KeyLifecycle.Plan([Key("a", 1, T0)], now, settings, Retain);

        Assert.Equal([now.AddMinutes(2)], plan.Create);
    }

    [Fact]
    public void Plan_RotationDueWithinTwoChecks_NextKeyIsCreatedEarlyEnough()
    {
        var settings = Settings with { PublishAhead = TimeSpan.Zero };

        var plan = KeyLifecycle.Plan([Key("a", 1, T0)], T0.AddDays(90).AddMinutes(-2), settings, Retain);

        Assert.Equal([T0.AddDays(90)], plan.Create);
    }

    [Fact]
    public void SafePublication_PublishAheadLonger_IsPublishAhead()
    {
        Assert.Equal(TimeSpan.FromDays(2), Settings.SafePublication);
        Assert.Equal(TimeSpan.FromMinutes(2), (Settings with { PublishAhead = TimeSpan.FromSeconds(5) }).SafePublication);
    }

    [Fact]
    public void NodesLacking_OneNodeWithoutTheKey_IsTheOnlyOneNamed()
    {
        var live = new[]
        {
            new LiveNode("1", "node-a", T0, new HashSet<string>(["old", "new"])),
            new LiveNode("2", "node-b", T0, new HashSet<string>(["old"])),
        };

        Assert.Equal(["node-b"], KeyRotationService.NodesLacking(live, "new").Select(n => n.Name));
        Assert.Empty(KeyRotationService.NodesLacking(live, "old"));
    }

    private static SigningKey Key(string id, int generation, DateTimeOffset activatesAt, DateTimeOffset? retiredAt = null) => new()
    {
        Id = id,
        Use = KeyUses.Signing,
        Generation = generation,
        Algorithm = "RS256",
        ProtectedKey = "protected",
        CreatedAt = activatesAt.AddDays(-2),
        ActivatesAt = activatesAt,
        RetiredAt = retiredAt,
    };
}
