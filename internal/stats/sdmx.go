package stats

import (
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// The SDMX artefacts of the statistics' exports: the agency that maintains
// them (SDMXAgency unless the deployment names its own, Service.Agency),
// the dataflow an SDMX-CSV file names (STRUCTURE_ID, SDMXDataflow), the
// data structure definition it uses, and their version. SDMXStructure
// writes them all, from the dimensions and the classification themselves.
const (
	SDMXAgency   = "CUSTOS"
	SDMXFlowID   = "ICCS_STATS"
	SDMXDSDID    = "DSD_ICCS_STATS"
	SDMXVersion  = "1.0"
	sdmxConcepts = "CS_ICCS_STATS"
)

// SDMXDataflow names the data an SDMX-CSV export holds (its STRUCTURE_ID)
// when agency maintains the artefacts.
func SDMXDataflow(agency string) string {
	return agency + ":" + SDMXFlowID + "(" + SDMXVersion + ")"
}

// sdmxAgencyID is SDMX 2.1's NestedNCNameIDType, what an agency id is
// (SDMXCommon.xsd): names that start with a letter, of letters, digits,
// "_" and "-", joined by dots for a sub-agency (UNODC.XA_NSO).
var sdmxAgencyID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-]*(\.[A-Za-z][A-Za-z0-9_\-]*)*$`)

// CheckSDMXAgency refuses an agency id SDMX does not allow (--sdmx-agency).
func CheckSDMXAgency(id string) error {
	if len(id) > 64 || !sdmxAgencyID.MatchString(id) {
		return fmt.Errorf("an SDMX agency id is letters, digits, _ and - starting with a letter, names joined by dots for a sub-agency (XA_NSO, UNODC.XA), at most 64 characters, not %q", id)
	}
	return nil
}

// agency is the SDMX agency that maintains the artefacts of this
// registry's exports: Agency, else SDMXAgency.
func (s *Service) agency() string {
	if s.Agency != "" {
		return s.Agency
	}
	return SDMXAgency
}

// SDMXAction is the ACTION of every row of an SDMX-CSV export: I,
// information (a disseminated table, not an instruction to a database).
const SDMXAction = "I"

// sdmxDimensions are the dimensions of the data structure, in the order
// of an SDMX-CSV file's columns: the ICCS category, the stage, the unit,
// every other dimension a query may break down by, the period last (the
// time dimension).
func sdmxDimensions() []Dimension {
	out := []Dimension{DimICCS, DimStage, DimUnit}
	for _, d := range Dimensions {
		if d.ID != DimStage.ID && d.ID != DimUnit.ID {
			out = append(out, d)
		}
	}
	return append(out, DimPeriod)
}

// confStatuses are the codes of CONF_STATUS (ConfFree, ConfPrimary,
// ConfSecondary), as SDMX's CL_CONF_STATUS names them.
var confStatuses = []Value{
	{Code: ConfFree, SDMX: ConfFree, Label: "Free"},
	{Code: ConfPrimary, SDMX: ConfPrimary, Label: "Confidential statistical information (primary confidentiality)"},
	{Code: ConfSecondary, SDMX: ConfSecondary, Label: "Secondary confidentiality set by the sender, not for publication"},
}

// SDMXCodelist is the id of a dimension's codelist in the structure; ""
// for the period and the region, which are not coded.
func SDMXCodelist(d Dimension) string {
	if d.ID == DimPeriod.ID || d.ID == DimRegion.ID {
		return ""
	}
	return "CL_" + d.SDMX
}

// SDMXCodes are the codes of a dimension's codelist: its values' SDMX
// codes (every ICCS category for the ICCS), then _T, the total.
func SDMXCodes(d Dimension) []Value {
	var out []Value
	if d.ID == DimICCS.ID {
		for _, c := range ICCS.Categories {
			out = append(out, Value{Code: c.Code, SDMX: c.Code, Label: c.Title})
		}
	} else {
		for _, v := range d.Values {
			out = append(out, Value{Code: v.Code, SDMX: v.SDMX, Label: v.Label})
		}
	}
	return append(out, Value{Code: Total, SDMX: Total, Label: "Total"})
}

// SDMXStructure writes the SDMX-ML 2.1 Structure message of the exports:
// the dataflow Dataflow, its data structure definition (the dimensions of
// sdmxDimensions, OBS_VALUE, the attributes CONF_STATUS of an observation
// and NOT_PLACED of the data set), the codelists of the coded dimensions
// and of CONF_STATUS, and the concepts. Everything is generated from the
// dimensions and the shipped ICCS, so that the file and its structure
// cannot disagree.
func SDMXStructure(w io.Writer, agency string, prepared time.Time) error {
	var b strings.Builder
	x := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	esc := func(s string) string {
		var e strings.Builder
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	name := func(s string) { x(`<com:Name xml:lang="en">%s</com:Name>`, esc(s)) }
	maint := fmt.Sprintf(`agencyID="%s" version="%s"`, agency, SDMXVersion)
	ref := func(id, class, pkg string) string {
		return fmt.Sprintf(`<Ref id="%s" %s class="%s" package="%s"/>`, id, maint, class, pkg)
	}
	concept := func(id string) {
		x(`<str:ConceptIdentity><Ref id="%s" maintainableParentID="%s" maintainableParentVersion="%s" agencyID="%s" class="Concept" package="conceptscheme"/></str:ConceptIdentity>`,
			id, sdmxConcepts, SDMXVersion, agency)
	}
	dims := sdmxDimensions()
	x(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x(`<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" xmlns:str="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure" xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">`)
	x(`<mes:Header><mes:ID>%s_STRUCTURE</mes:ID><mes:Test>false</mes:Test><mes:Prepared>%s</mes:Prepared><mes:Sender id="%s"/></mes:Header>`,
		SDMXFlowID, prepared.UTC().Format(time.RFC3339), agency)
	x(`<mes:Structures>`)
	// Dataflows, Codelists, Concepts, DataStructures: the order of the schema.
	x(`<str:Dataflows><str:Dataflow id="%s" %s>`, SDMXFlowID, maint)
	name("Crime and criminal-justice statistics by the ICCS (custos)")
	x(`<str:Structure>%s</str:Structure></str:Dataflow></str:Dataflows>`, ref(SDMXDSDID, "DataStructure", "datastructure"))
	x(`<str:Codelists>`)
	codelist := func(id, title string, codes []Value) {
		x(`<str:Codelist id="%s" %s>`, id, maint)
		name(title)
		for _, c := range codes {
			x(`<str:Code id="%s">`, esc(c.SDMX))
			name(c.Label)
			if k, ok := ICCS.Lookup(c.SDMX); ok && id == SDMXCodelist(DimICCS) && k.Parent != "" {
				x(`<str:Parent><Ref id="%s"/></str:Parent>`, esc(k.Parent))
			}
			x(`</str:Code>`)
		}
		x(`</str:Codelist>`)
	}
	for _, d := range dims {
		if cl := SDMXCodelist(d); cl != "" {
			codelist(cl, d.Label, SDMXCodes(d))
		}
	}
	codelist("CL_CONF_STATUS", "Confidentiality status", confStatuses)
	x(`</str:Codelists>`)
	x(`<str:Concepts><str:ConceptScheme id="%s" %s>`, sdmxConcepts, maint)
	name("Concepts of the ICCS statistics (custos)")
	conceptOf := func(id, title string) {
		x(`<str:Concept id="%s">`, id)
		name(title)
		x(`</str:Concept>`)
	}
	for _, d := range dims {
		conceptOf(d.SDMX, d.Label)
	}
	conceptOf("OBS_VALUE", "Observation value: units counted")
	conceptOf("CONF_STATUS", "Confidentiality status")
	conceptOf(SDMXNotPlaced, "Units the period cannot place (dated by their year or month alone)")
	x(`</str:ConceptScheme></str:Concepts>`)
	x(`<str:DataStructures><str:DataStructure id="%s" %s>`, SDMXDSDID, maint)
	name("Crime and criminal-justice statistics by the ICCS (custos)")
	x(`<str:DataStructureComponents><str:DimensionList id="DimensionDescriptor">`)
	for i, d := range dims {
		if d.ID == DimPeriod.ID {
			x(`<str:TimeDimension id="%s" position="%d">`, d.SDMX, i+1)
			concept(d.SDMX)
			x(`<str:LocalRepresentation><str:TextFormat textType="ObservationalTimePeriod"/></str:LocalRepresentation></str:TimeDimension>`)
			continue
		}
		x(`<str:Dimension id="%s" position="%d">`, d.SDMX, i+1)
		concept(d.SDMX)
		if cl := SDMXCodelist(d); cl != "" {
			x(`<str:LocalRepresentation><str:Enumeration>%s</str:Enumeration></str:LocalRepresentation>`, ref(cl, "Codelist", "codelist"))
		} else {
			x(`<str:LocalRepresentation><str:TextFormat textType="String" maxLength="64"/></str:LocalRepresentation>`)
		}
		x(`</str:Dimension>`)
	}
	x(`</str:DimensionList><str:AttributeList id="AttributeDescriptor">`)
	x(`<str:Attribute id="CONF_STATUS" assignmentStatus="Mandatory">`)
	concept("CONF_STATUS")
	x(`<str:LocalRepresentation><str:Enumeration>%s</str:Enumeration></str:LocalRepresentation>`, ref("CL_CONF_STATUS", "Codelist", "codelist"))
	x(`<str:AttributeRelationship><str:PrimaryMeasure><Ref id="OBS_VALUE"/></str:PrimaryMeasure></str:AttributeRelationship></str:Attribute>`)
	x(`<str:Attribute id="%s" assignmentStatus="Conditional">`, SDMXNotPlaced)
	concept(SDMXNotPlaced)
	// A number, or "<" and the disclosure threshold (NotPlacedText).
	x(`<str:LocalRepresentation><str:TextFormat textType="String"/></str:LocalRepresentation>`)
	x(`<str:AttributeRelationship><str:None/></str:AttributeRelationship></str:Attribute>`)
	x(`</str:AttributeList><str:MeasureList id="MeasureDescriptor"><str:PrimaryMeasure id="OBS_VALUE">`)
	concept("OBS_VALUE")
	// Long (xs:long), not Integer (xs:int, at most 2^31-1): a big
	// country's totals pass 2^31 (a count is up to 10^9 a record).
	x(`<str:LocalRepresentation><str:TextFormat textType="Long"/></str:LocalRepresentation></str:PrimaryMeasure></str:MeasureList>`)
	x(`</str:DataStructureComponents></str:DataStructure></str:DataStructures>`)
	x(`</mes:Structures></mes:Structure>` + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteSDMXStructure writes SDMXStructure, prepared at the service's time.
func (s *Service) WriteSDMXStructure(w io.Writer) error { return SDMXStructure(w, s.agency(), s.now()) }
