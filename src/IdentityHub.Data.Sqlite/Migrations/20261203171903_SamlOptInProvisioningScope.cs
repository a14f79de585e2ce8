using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class SamlOptInProvisioningScope : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "AllowIdpInitiated",
                table: "SamlServiceProviders",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<long>(
                name: "NextDriftCheckAt",
                table: "Connectors",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "NextFullSyncAt",
                table: "Connectors",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AlterColumn<bool>(
                name: "RevokeTokensOnAccessLoss",
                table: "Applications",
                type: "INTEGER",
                nullable: false,
                defaultValue: true,
                oldClrType: typeof(bool),
                oldType: "INTEGER");

            // Nothing could switch it off before (neither the admin API nor the console set it): every false is the
            // old column default, which left existing applications unprotected. Keep this when migrations are regenerated.
            migrationBuilder.Sql(@"UPDATE ""Applications"" SET ""RevokeTokensOnAccessLoss"" = 1;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AllowIdpInitiated",
                table: "SamlServiceProviders");

            migrationBuilder.DropColumn(
                name: "NextDriftCheckAt",
                table: "Connectors");

            migrationBuilder.DropColumn(
                name: "NextFullSyncAt",
                table: "Connectors");

            migrationBuilder.AlterColumn<bool>(
                name: "RevokeTokensOnAccessLoss",
                table: "Applications",
                type: "INTEGER",
                nullable: false,
                oldClrType: typeof(bool),
                oldType: "INTEGER",
                oldDefaultValue: true);
        }
    }
}
