package hashmatch

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"time"

	"golang.org/x/image/draw"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/module"
)

// Names of the demo's hash-matching principals, whose tokens the demo prints.
const (
	DemoAnalyst  = "Analyst, Demoland Child Protection Hotline"
	DemoService  = "Upload pipeline, Snapwell Photo Sharing"
	DemoReviewer = "Trust and safety reviewer, Snapwell Photo Sharing"
)

// demoSide is the side of the demo's generated images, in pixels.
const demoSide = 256

// Demo adds the hash-matching registry's part of the Demoland demo: a
// competent authority with an analyst, a service provider with a service
// principal and a reviewer, two hash banks whose entries are hashes of
// abstract patterns generated here (never real material), one published
// version each, the service subscribed to both and holding their snapshots,
// and one open case: the service uploaded an altered copy of a bank's image,
// which matched, so the reviewer has a case to review. It moves the clock
// forward from where it finds it.
func Demo(ctx context.Context, d *module.Demo) error {
	s, ok := d.Service.(*Service)
	if !ok {
		return fmt.Errorf("the hashmatch demo needs the *hashmatch.Service the server opened, got %T", d.Service)
	}
	at := d.Clock()
	step := func(dt time.Duration) { at = at.Add(dt); d.SetClock(at) }
	step(time.Hour)

	hotline, err := demoAuthority(ctx, d, "Demoland Child Protection Hotline", "Port Aster", KindCompetentAuthority)
	if err != nil {
		return err
	}
	provider, err := demoAuthority(ctx, d, "Snapwell Photo Sharing", "Northgate", KindServiceProvider)
	if err != nil {
		return err
	}
	analyst, err := d.Principal(ctx, DemoAnalyst, RoleAnalyst, hotline)
	if err != nil {
		return err
	}
	service, err := d.Principal(ctx, DemoService, RoleService, provider)
	if err != nil {
		return err
	}
	if _, err := d.Principal(ctx, DemoReviewer, RoleReviewer, provider); err != nil {
		return err
	}

	// The hotline hashes its (generated) images and publishes two banks.
	rng := rand.New(rand.NewPCG(d.Seed, 11))
	var images []*image.RGBA
	addImage := func(id string) (DocEntry, error) {
		img := newDemoScene(rng).draw(0)
		images = append(images, img)
		return demoImageEntry(id, img)
	}
	banks := []struct {
		name string
		ids  []string
	}{
		{"Known images (synthetic demo set)", []string{"demo-img-001", "demo-img-002", "demo-img-003", "demo-img-004"}},
		{"Partner hotline list (synthetic demo set)", []string{"demo-img-101", "demo-img-102"}},
	}
	entries, bankIDs := 0, []string{}
	for i, b := range banks {
		step(24 * time.Hour)
		bank, err := s.CreateBank(ctx, analyst, NewBank{Name: b.name})
		if err != nil {
			return err
		}
		var v NewVersion
		for _, id := range b.ids {
			e, err := addImage(id)
			if err != nil {
				return err
			}
			v.Adds = append(v.Adds, e)
		}
		if i == 1 {
			// A video entry: the vPDQ hash of a generated animation.
			e, err := demoVideoEntry("demo-vid-101", newDemoScene(rng))
			if err != nil {
				return err
			}
			v.Adds = append(v.Adds, e)
		}
		step(time.Hour)
		if _, err := s.Publish(ctx, analyst, bank.ID, v); err != nil {
			return err
		}
		if i == 1 {
			// The partner list sets its own video match percentages
			// instead of the reference's 80 and 0: 70 % of the query's
			// frames, and 50 % of the entry's (a clip of a fifth of the
			// known video no longer matches it).
			q, ix := 70.0, 50.0
			step(time.Minute)
			if _, err := s.SetVideoThresholds(ctx, analyst, bank.ID, VideoThresholds{QueryMatchThresholdPct: &q, IndexMatchThresholdPct: &ix}); err != nil {
				return err
			}
		}
		entries += len(v.Adds)
		bankIDs = append(bankIDs, bank.ID)
	}

	// The service subscribes to both banks and pulls their snapshots.
	for _, id := range bankIDs {
		step(2 * time.Hour)
		if _, err := s.Subscribe(ctx, service, id); err != nil {
			return err
		}
		if _, err := s.Pull(ctx, service, id, 0); err != nil {
			return err
		}
	}

	// A user uploads a copy of a known image, scaled down and recompressed:
	// it matches, and a case awaits the reviewer.
	step(3 * 24 * time.Hour)
	upload, err := demoAltered(images[1])
	if err != nil {
		return err
	}
	res, err := s.MatchImage(ctx, service, bytes.NewReader(upload), Query{ContentRef: "photo/demo-48213", UserID: "demo-user-7",
		UploadedAt: at.Add(-10 * time.Minute).Format(time.RFC3339)})
	if err != nil {
		return err
	}
	if res.Status != StatusMatch || res.CaseID == "" {
		return fmt.Errorf("the demo's altered image did not match its bank entry: %s", res.Status)
	}
	d.Progress(fmt.Sprintf("demo: hash matching: %d banks, %d entries, 1 subscribed service, 1 open case", len(bankIDs), entries))
	return nil
}

// demoAuthority creates an authority as the demo administrator.
func demoAuthority(ctx context.Context, d *module.Demo, name, city, kind string) (string, error) {
	a, err := d.Authorities.CreateAuthority(ctx, d.Admin, auth.NewAuthority{Name: name, City: city, Kind: kind})
	if err != nil {
		return "", err
	}
	return a.ID, nil
}

// demoImageEntry is a bank entry for img: the PDQ hash of its pixels, and
// the digests of its PNG file.
func demoImageEntry(id string, img image.Image) (DocEntry, error) {
	r, err := pdq.HashImage(img)
	if err != nil {
		return DocEntry{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return DocEntry{}, err
	}
	m, s := md5.Sum(buf.Bytes()), sha256.Sum256(buf.Bytes())
	return DocEntry{EntryID: id, PDQ: r.Hash.String(), MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:]),
		Classification: "synthetic"}, nil
}

// demoVideoEntry is a video entry: the vPDQ hash of ten seconds of sc
// animated, one frame a second.
func demoVideoEntry(id string, sc demoScene) (DocEntry, error) {
	var frames []VideoFrame
	for sec := 0; sec < 10; sec++ {
		r, err := pdq.HashImage(sc.draw(float64(sec)))
		if err != nil {
			return DocEntry{}, err
		}
		frames = append(frames, VideoFrame{PDQ: r.Hash.String(), Quality: r.Quality, Seconds: float64(sec)})
	}
	return DocEntry{EntryID: id, Classification: "synthetic", Video: &VideoHash{Frames: frames}}, nil
}

// demoAltered is img as a re-upload would have it: scaled to 80% and saved
// as a JPEG of quality 75.
func demoAltered(img image.Image) ([]byte, error) {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*4/5, b.Dy()*4/5))
	draw.BiLinear.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 75}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// demoScene is an abstract picture: coloured rectangles and ellipses over a
// gradient. Drawn at time t (seconds), the shapes drift, which makes a video.
type demoScene struct {
	shapes []demoShape
	bg     [2][3]float64 // the gradient's colours, top left and bottom right
}

type demoShape struct {
	ellipse            bool
	x, y, w, h, vx, vy float64
	colour             [3]uint8
}

func newDemoScene(rng *rand.Rand) demoScene {
	var sc demoScene
	for i := range sc.bg {
		for c := range sc.bg[i] {
			sc.bg[i][c] = rng.Float64() * 255
		}
	}
	for range 14 {
		sh := demoShape{ellipse: rng.IntN(2) == 0, x: rng.Float64() * demoSide, y: rng.Float64() * demoSide,
			w: 20 + rng.Float64()*90, h: 20 + rng.Float64()*90, vx: rng.Float64()*16 - 8, vy: rng.Float64()*16 - 8}
		for c := range sh.colour {
			sh.colour[c] = uint8(rng.IntN(256))
		}
		sc.shapes = append(sc.shapes, sh)
	}
	return sc
}

func (sc demoScene) draw(t float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, demoSide, demoSide))
	for y := 0; y < demoSide; y++ {
		for x := 0; x < demoSide; x++ {
			f := float64(x+y) / (2 * demoSide)
			var px [3]uint8
			for c := range px {
				px[c] = uint8(sc.bg[0][c]*(1-f) + sc.bg[1][c]*f)
			}
			for _, sh := range sc.shapes {
				dx, dy := float64(x)-(sh.x+sh.vx*t), float64(y)-(sh.y+sh.vy*t)
				if sh.ellipse && 4*dx*dx/(sh.w*sh.w)+4*dy*dy/(sh.h*sh.h) <= 1 ||
					!sh.ellipse && 2*math.Abs(dx) <= sh.w && 2*math.Abs(dy) <= sh.h {
					px = sh.colour
				}
			}
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = px[0], px[1], px[2], 255
		}
	}
	return img
}
