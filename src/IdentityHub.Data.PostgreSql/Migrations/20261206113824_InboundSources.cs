using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace IdentityHub.Data.PostgreSql.Migrations
{
    /// <inheritdoc />
    public partial class InboundSources : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ExternalId",
                table: "Departments",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SourceId",
                table: "Departments",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ExternalId",
                table: "AspNetUsers",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PendingManagerRef",
                table: "AspNetUsers",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SourceId",
                table: "AspNetUsers",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "InboundSources",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    OwnedAttributes = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    ConflictPolicy = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Settings = table.Column<string>(type: "character varying(16000)", maxLength: 16000, nullable: false),
                    TokenHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    TokenHint = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    TokenIssuedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ProtectedSecret = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    Cursor = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    FirstImportApproved = table.Column<bool>(type: "boolean", nullable: false),
                    NextIncrementAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    NextReconciliationAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InboundSources", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "InboundConflicts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    SourceId = table.Column<Guid>(type: "uuid", nullable: false),
                    UserId = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: false),
                    Attribute = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    LocalValue = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    SourceValue = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    Resolution = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    OccurredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InboundConflicts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_InboundConflicts_InboundSources_SourceId",
                        column: x => x.SourceId,
                        principalTable: "InboundSources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "InboundRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    SourceId = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Created = table.Column<int>(type: "integer", nullable: false),
                    Updated = table.Column<int>(type: "integer", nullable: false),
                    Left = table.Column<int>(type: "integer", nullable: false),
                    Skipped = table.Column<int>(type: "integer", nullable: false),
                    Conflicts = table.Column<int>(type: "integer", nullable: false),
                    Failed = table.Column<int>(type: "integer", nullable: false),
                    Errors = table.Column<string>(type: "character varying(16000)", maxLength: 16000, nullable: true),
                    Report = table.Column<string>(type: "text", nullable: true),
                    Failure = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InboundRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_InboundRuns_InboundSources_SourceId",
                        column: x => x.SourceId,
                        principalTable: "InboundSources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "InboundSourceSubtrees",
                columns: table => new
                {
                    SourceId = table.Column<Guid>(type: "uuid", nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InboundSourceSubtrees", x => new { x.SourceId, x.DepartmentId });
                    table.ForeignKey(
                        name: "FK_InboundSourceSubtrees_Departments_DepartmentId",
                        column: x => x.DepartmentId,
                        principalTable: "Departments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_InboundSourceSubtrees_InboundSources_SourceId",
                        column: x => x.SourceId,
                        principalTable: "InboundSources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Departments_SourceId_ExternalId",
                table: "Departments",
                columns: new[] { "SourceId", "ExternalId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUsers_SourceId_ExternalId",
                table: "AspNetUsers",
                columns: new[] { "SourceId", "ExternalId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_InboundConflicts_SourceId_OccurredAt",
                table: "InboundConflicts",
                columns: new[] { "SourceId", "OccurredAt" });

            migrationBuilder.CreateIndex(
                name: "IX_InboundRuns_SourceId_Kind_StartedAt",
                table: "InboundRuns",
                columns: new[] { "SourceId", "Kind", "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_InboundSources_Name",
                table: "InboundSources",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_InboundSources_TokenHash",
                table: "InboundSources",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_InboundSourceSubtrees_DepartmentId",
                table: "InboundSourceSubtrees",
                column: "DepartmentId");

            migrationBuilder.AddForeignKey(
                name: "FK_AspNetUsers_InboundSources_SourceId",
                table: "AspNetUsers",
                column: "SourceId",
                principalTable: "InboundSources",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);

            migrationBuilder.AddForeignKey(
                name: "FK_Departments_InboundSources_SourceId",
                table: "Departments",
                column: "SourceId",
                principalTable: "InboundSources",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_AspNetUsers_InboundSources_SourceId",
                table: "AspNetUsers");

            migrationBuilder.DropForeignKey(
                name: "FK_Departments_InboundSources_SourceId",
                table: "Departments");

            migrationBuilder.DropTable(
                name: "InboundConflicts");

            migrationBuilder.DropTable(
                name: "InboundRuns");

            migrationBuilder.DropTable(
                name: "InboundSourceSubtrees");

            migrationBuilder.DropTable(
                name: "InboundSources");

            migrationBuilder.DropIndex(
                name: "IX_Departments_SourceId_ExternalId",
                table: "Departments");

            migrationBuilder.DropIndex(
                name: "IX_AspNetUsers_SourceId_ExternalId",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "ExternalId",
                table: "Departments");

            migrationBuilder.DropColumn(
                name: "SourceId",
                table: "Departments");

            migrationBuilder.DropColumn(
                name: "ExternalId",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "PendingManagerRef",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "SourceId",
                table: "AspNetUsers");
        }
    }
}
