package assets

import (
	"context"
	"fmt"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/module"
)

// The demo's principals, whose tokens the demo prints.
const (
	DemoCentralAuthority = "Officer, Demoland Central Authority"
	DemoProsecutor       = "Prosecutor, Demoland Asset Recovery Office"
)

// demoDirectory is Demoland's own entry of the directory, which its
// officer records, and demoPartners are two foreign partners' (invented
// states XB and XC, invented addresses) as their states publish them,
// which the administrator copies: an officer records its own state's
// entries only.
const (
	demoHeader    = "state,kind,name,legal_bases,treaty,languages,channels,email,phone,available_24_7,contact_24_7\n"
	demoDirectory = demoHeader +
		"XA,central_authority,Demoland Ministry of Justice: International Cooperation Unit,uncac_46;untoc_18,,en;fr,email;post;secure_platform,mla@justice.demoland.example,+999 100 2000,yes,+999 100 2424\n"
	demoPartners = demoHeader +
		"XB,central_authority,Otherland Office of the Attorney General,uncac_46;bilateral_treaty,Demoland-Otherland Treaty on Mutual Legal Assistance (2001),en;es,email;diplomatic,central.authority@otherland.example,,no,\n" +
		"XC,asset_recovery_focal_point,Thirdland Asset Recovery Office,uncac_46;reciprocity,,fr,email;phone,aro@thirdland.example,+998 55 0101,yes,+998 55 0000\n"
)

// Demo adds the registry's part of Demoland: the directory, a central
// authority and an asset recovery office with their principals, a case of
// embezzlement and money laundering with a bank account frozen, confiscated
// and returned and a villa seized, and a year's exchange rates.
func Demo(ctx context.Context, d *module.Demo) error {
	s, ok := d.Service.(*Service)
	if !ok {
		return fmt.Errorf("the assets demo needs the *assets.Service the server opened, got %T", d.Service)
	}
	ca, err := d.Authorities.CreateAuthority(ctx, d.Admin, auth.NewAuthority{Name: "Demoland Central Authority", City: "Port Aster", Kind: KindCentralAuthority})
	if err != nil {
		return err
	}
	aro, err := d.Authorities.CreateAuthority(ctx, d.Admin, auth.NewAuthority{Name: "Demoland Asset Recovery Office", City: "Port Aster", Kind: KindProsecution})
	if err != nil {
		return err
	}
	officer, err := d.Principal(ctx, DemoCentralAuthority, RoleCentralAuthority, ca.ID)
	if err != nil {
		return err
	}
	prosecutor, err := d.Principal(ctx, DemoProsecutor, RoleProsecutor, aro.ID)
	if err != nil {
		return err
	}
	if _, err := s.ImportDirectory(ctx, officer, "demoland-directory.csv", strings.NewReader(demoDirectory)); err != nil {
		return err
	}
	if _, err := s.ImportDirectory(ctx, d.Admin, "published-directories.csv", strings.NewReader(demoPartners)); err != nil {
		return err
	}
	// The case's days, counted back from the demo's clock.
	day := func(monthsAgo int) string { return d.Clock().AddDate(0, -monthsAgo, 0).Format(check.DateLayout) }
	year := d.Clock().AddDate(0, -2, 0).Year()
	c, err := s.OpenCase(ctx, prosecutor, NewCase{Reference: "ARO-2023-014", Title: "Embezzlement of public works funds (Harbour Bridge contract)",
		Kind: CaseOutgoing, Offences: []string{"07032", "070312", "07041"}, OpenedOn: day(30)})
	if err != nil {
		return err
	}
	official, err := s.AddPerson(ctx, prosecutor, c.ID, NewPerson{Kind: PersonNatural, Role: "accused", Country: "XA", Name: "Ivo Demo (synthetic)", BirthDate: "1968-04-12"})
	if err != nil {
		return err
	}
	if _, err := s.AddPerson(ctx, prosecutor, c.ID, NewPerson{Kind: PersonLegal, Role: "owner", Country: "XB", Name: "Harbour Holdings Ltd (fictitious)", Registration: "XB-778812"}); err != nil {
		return err
	}
	account, err := s.IdentifyAsset(ctx, prosecutor, c.ID, NewAsset{Type: "bank_account", Jurisdiction: "XB", Description: "Current account held at an Otherland bank",
		Value: "2400000.00", Currency: "EUR", HolderID: official.ID, IdentifiedOn: day(28), Instrument: "Financial intelligence report FIU-XA-2023-551", Authority: "Demoland Asset Recovery Office"})
	if err != nil {
		return err
	}
	for _, m := range []NewMeasure{
		{Step: StepFrozen, DecidedOn: day(27), Instrument: "Otherland freezing order on Demoland's request", Amount: "2350000.00", Currency: "EUR", Authority: "Otherland District Court"},
		{Step: StepConfiscated, Confiscation: ConfiscationCriminal, DecidedOn: day(14), Instrument: "Judgment 2024/88, enforced in Otherland", Amount: "2350000.00", Currency: "EUR", Authority: "Demoland High Court"},
		{Step: StepReturned, ReturnedTo: "XA", DecidedOn: day(3), Instrument: "Return agreement under UNCAC art. 57(3)(a)", Amount: "2250000.00", Currency: "EUR", Authority: "Otherland Ministry of Justice"},
	} {
		if _, err := s.RecordMeasure(ctx, prosecutor, account.ID, m); err != nil {
			return err
		}
	}
	villa, err := s.IdentifyAsset(ctx, prosecutor, c.ID, NewAsset{Type: "real_estate", Jurisdiction: "XA", Description: "Villa on the coast road, Port Aster",
		Value: "195000.00", Currency: "EUR", IdentifiedOn: day(26), Instrument: "Land registry search", Authority: "Demoland Asset Recovery Office"})
	if err != nil {
		return err
	}
	if _, err := s.RecordMeasure(ctx, prosecutor, villa.ID, NewMeasure{Step: StepSeized, DecidedOn: day(25), Instrument: "Seizure order 2023/311",
		Amount: "195000.00", Currency: "EUR", Authority: "Investigating judge, Port Aster"}); err != nil {
		return err
	}
	// Demoland keeps its amounts in euros: a fictional state has no ISO 4217
	// code of its own, and any three letters it borrowed (XAD is the Arab
	// Accounting Dinar) would be another currency's. One rate a year, EUR to
	// USD, lets the statistics answer in either.
	for y := year - 3; y <= year; y++ {
		if _, err := s.RecordRate(ctx, officer, Rate{Currency: "EUR", To: "USD", Year: y, Rate: "1.08", Source: "Demoland Central Bank, annual average (invented)"}); err != nil {
			return err
		}
	}
	// Requests to Otherland (demo_requests.go).
	if err := demoRequests(ctx, s, officer, prosecutor, c.ID, d.Clock()); err != nil {
		return err
	}
	// Beneficial ownership (bods_demo.go).
	if err := DemoBODS(ctx, d); err != nil {
		return err
	}
	return nil
}
