using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.PostgreSql.Migrations
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
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "NextDriftCheckAt",
                table: "Connectors",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "NextFullSyncAt",
                table: "Connectors",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AlterColumn<bool>(
                name: "RevokeTokensOnAccessLoss",
                table: "Applications",
                type: "boolean",
                nullable: false,
                defaultValue: true,
                oldClrType: typeof(bool),
                oldType: "boolean");

            // Nothing could switch it off before (neither the admin API nor the console set it): every false is the
            // old column default, which left existing applications unprotected. Keep this when migrations are regenerated.
            migrationBuilder.Sql(@"UPDATE ""Applications"" SET ""RevokeTokensOnAccessLoss"" = TRUE;");
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
                type: "boolean",
                nullable: false,
                oldClrType: typeof(bool),
                oldType: "boolean",
                oldDefaultValue: true);
        }
    }
}
