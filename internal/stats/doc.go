// Package stats is the crime and criminal-justice statistics registry
// (issue 19; resolution VII paras 79-80): national offence codes mapped to
// the International Classification of Crime for Statistical Purposes (ICCS
// v1.0), national police, prosecution, court and prison records imported
// with the ICCS's disaggregation tags, counts at any ICCS level by any tags,
// period and region, from those records and from the registries that hold
// such events (trafficking in persons for organ removal, from the
// transplant registry), exported as SDMX-CSV and as the UN-CTS tables.
//
// # The API a user interface builds on
//
// Open the service as server.DefaultModules does: &Service{W, DB,
// Threshold, Sources, Now}. Every method takes the principal and checks its
// action (ManageMappings, ImportRecords, ReadStatistics, PublishTables).
//
//	Classification  ICCS (*Classification): Categories in order, Lookup(code),
//	                At(level), Ancestor(code, level), Check(field, code);
//	                Category{Code, Level, Parent, Title, TitleES} and
//	                Category.TitleIn(lang): the official Spanish title, else English.
//	Dimensions      Dimensions (every breakdown), Dim(id), each with its Values
//	                {Code, SDMX, Label (a message: translate with s.T)};
//	                DimICCS and DimPeriod have no fixed values.
//	Mappings        ParseMapping(csv) -> []MappingRow; PublishMapping(ctx, p, NewMapping)
//	                -> *Mapping (next version); Mappings(ctx, p); Mapping(ctx, p, id, version);
//	                CheckCodes(ctx, p, mapping, version, csv) -> *MappingReport
//	                (Unmapped, Ambiguous: the national codes a records file carries that
//	                the mapping does not map, or maps to several categories).
//	Imports         Import(ctx, p, ImportRequest{Source, Mapping, MappingVersion}, r, size,
//	                progress) -> *Import; Imports(ctx, p). ImportColumns lists a records
//	                file's columns. A refusal (errs) names line, field and rule.
//	Aggregation     Aggregate(ctx, p, Query) -> *Result{Dims, Cells[{Key, Count}]}:
//	                Query{Stage, Unit, Level, ICCS, By, Period, From, To, Filter, Totals,
//	                Sources}; Result.Get(key...) reads one cell, Total ("_T") in a key
//	                is the total over that dimension.
//	                ParseQuery(url.Values) reads a Query from a page's or a link's
//	                parameters (stage, unit, level, iccs, by, period, from, to, totals,
//	                sources, filter.<dimension>); Periods, MaxBreakdown.
//	Published       Publish(ctx, p, q) -> disclosure.Published: the counts as a two-way
//	                table (rows by every dimension of the breakdown but the last, joined
//	                " / "; columns by the last) after disclosure control, with its
//	                totals: what a page or a chart shows (disclosure.Suppressed is "x").
//	Exports         SDMX(p, q) and UNCTS(p, table, year, format) -> export.Request,
//	                for export.Serve (API) or Session.Export (web UI); UNCTSTables,
//	                UNCTSCrimes (the questionnaire's crimes and their ICCS codes),
//	                UNCTSRows(table), UNCTSQuery(table, year) (the query behind a table),
//	                SDMXColumns, SDMXDataflow, ConfFree/ConfPrimary/ConfSecondary;
//	                SDMXStructure (the SDMX-ML 2.1 structure the SDMX-CSV 2.0 files
//	                name, from the dimensions and the ICCS), SDMXCodes, SDMXCodelist.
//	Sources         Source{Name, Records}; TraffickingForOrganRemoval (ICCS 02043 from
//	                the transplant registry); SourceImport names imported records.
//
// # Storage
//
// Mappings and imports are log entries (TypeMappingPublished,
// TypeRecordsImported) projected into stats_mappings, stats_mapping_rows and
// stats_imports. An import's records are not in the log: millions of rows
// a year would swamp it, and they are statistics, not registry records.
// They are stored column by column (stats_columns): each chunk of up to
// 65,536 records holds one blob per column, a byte or two per record
// (codes of the enumerated tags, the ICCS category's index in the
// classification, the year, month and day, the age, an index into the
// import's dictionary of regions and national codes). Chunks are written
// before the import's entry and counted only once it is in the log; the
// entry carries their SHA-256 and each row's (row_sha256), so a chunk
// changed behind custos's back is found and its row named. An import beats its row of stats_writing while it writes; the
// next import sweeps the chunks of imports with no entry and no recent
// beat (Sweep, Orphaned). Counting reads ranges of chunks on several
// connections at once and counts them on every processor (countSets). Aggregating reads only the columns a query needs and counts in
// memory by mixed-radix keys, which is what makes 10,000,000 records by
// ICCS division × sex × age band × year take well under a second on SQLite
// and PostgreSQL where a GROUP BY over a table of rows takes several
// (BENCHMARKS.md).
//
// See docs/stats.md.
package stats
