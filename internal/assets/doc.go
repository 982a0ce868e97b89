// Package assets is the asset-recovery registry (issue 15; resolution V):
// the directory of central authorities and contact points, cases coded with
// the ICCS, their natural and legal persons (a natural person's data sealed
// by internal/privacy), linked cases, and the ledger of measures on each
// asset: identified, frozen or seized, confiscated (criminal, non-conviction
// based, civil), returned or disposed, each with its date, legal instrument,
// exact amount and currency and deciding authority. Its statistics count the
// amounts and cases by type and year in a chosen currency at the exchange
// rates the operator records, after disclosure control.
//
// A central authority and a prosecutor see their own state's cases only (the
// jurisdiction of their authority); the regulator and the auditor read all.
// Requests between central authorities and the exchange between deployments
// are planned (docs/assets.md).
package assets
