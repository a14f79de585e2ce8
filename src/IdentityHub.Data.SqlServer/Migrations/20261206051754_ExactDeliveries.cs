using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class ExactDeliveries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "NothingSent",
                table: "DeliveryAttempts",
                type: "bit",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "DeliveredState",
                table: "ConnectorUserStates",
                type: "nvarchar(200)",
                maxLength: 200,
                nullable: true);

            // Users delivered before: events were reckoned from the last state sent, so that state counts as the one accepted.
            migrationBuilder.Sql("""
                UPDATE [ConnectorUserStates] SET [DeliveredState] = [SentState] WHERE [LastDeliveredAt] IS NOT NULL;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "NothingSent",
                table: "DeliveryAttempts");

            migrationBuilder.DropColumn(
                name: "DeliveredState",
                table: "ConnectorUserStates");
        }
    }
}
