package tftp

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNegotiate(t *testing.T) {
	def := params{blockSize: 512, windowSize: 1, timeout: 3 * time.Second}
	tests := []struct {
		name     string
		opts     []Option
		size     int64
		want     params
		wantOACK []Option
	}{
		{name: "none", size: 10, want: def},
		{name: "unknown only", opts: []Option{{"utimeout", "1000"}, {"multicast", ""}}, size: 10, want: def},
		{
			name:     "blksize",
			opts:     []Option{{"blksize", "1468"}},
			want:     params{1468, 1, 3 * time.Second},
			wantOACK: []Option{{"blksize", "1468"}},
		},
		{
			name:     "blksize minimum",
			opts:     []Option{{"blksize", "8"}},
			want:     params{8, 1, 3 * time.Second},
			wantOACK: []Option{{"blksize", "8"}},
		},
		{name: "blksize too small ignored", opts: []Option{{"blksize", "7"}}, want: def},
		{
			name:     "blksize too big clamped",
			opts:     []Option{{"blksize", "65465"}},
			want:     params{65464, 1, 3 * time.Second},
			wantOACK: []Option{{"blksize", "65464"}},
		},
		{
			name:     "blksize huge clamped",
			opts:     []Option{{"blksize", "99999999999999999999999"}},
			want:     params{65464, 1, 3 * time.Second},
			wantOACK: []Option{{"blksize", "65464"}},
		},
		{
			name:     "leading zeros normalised",
			opts:     []Option{{"blksize", "01024"}},
			want:     params{1024, 1, 3 * time.Second},
			wantOACK: []Option{{"blksize", "1024"}},
		},
		{name: "blksize garbage ignored", opts: []Option{{"blksize", "1k"}}, want: def},
		{name: "blksize signed ignored", opts: []Option{{"blksize", "+512"}}, want: def},
		{name: "blksize negative ignored", opts: []Option{{"blksize", "-1"}}, want: def},
		{name: "blksize empty ignored", opts: []Option{{"blksize", ""}}, want: def},
		{
			name:     "timeout",
			opts:     []Option{{"timeout", "30"}},
			want:     params{512, 1, 30 * time.Second},
			wantOACK: []Option{{"timeout", "30"}},
		},
		{
			name:     "timeout minimum",
			opts:     []Option{{"timeout", "1"}},
			want:     params{512, 1, time.Second},
			wantOACK: []Option{{"timeout", "1"}},
		},
		// RFC 2349 allows 255, but holding a transfer for 6 times that
		// is declined: above the server's maximum the option is ignored.
		{name: "timeout above maximum declined", opts: []Option{{"timeout", "31"}}, want: def},
		{name: "timeout 255 declined", opts: []Option{{"timeout", "255"}}, want: def},
		{
			name:     "timeout 255 declined, others kept",
			opts:     []Option{{"timeout", "255"}, {"blksize", "1468"}},
			want:     params{1468, 1, 3 * time.Second},
			wantOACK: []Option{{"blksize", "1468"}},
		},
		{name: "timeout 0 ignored", opts: []Option{{"timeout", "0"}}, want: def},
		{name: "timeout 256 ignored", opts: []Option{{"timeout", "256"}}, want: def},
		{
			name:     "tsize",
			opts:     []Option{{"tsize", "0"}},
			size:     123456789012,
			want:     def,
			wantOACK: []Option{{"tsize", "123456789012"}},
		},
		{
			name:     "tsize of empty file",
			opts:     []Option{{"tsize", "0"}},
			size:     0,
			want:     def,
			wantOACK: []Option{{"tsize", "0"}},
		},
		{name: "tsize unknown size", opts: []Option{{"tsize", "0"}}, size: -1, want: def},
		{name: "tsize garbage", opts: []Option{{"tsize", "x"}}, size: 5, want: def},
		{
			name:     "windowsize",
			opts:     []Option{{"windowsize", "65535"}},
			want:     params{512, 65535, 3 * time.Second},
			wantOACK: []Option{{"windowsize", "65535"}},
		},
		{name: "windowsize 0 ignored", opts: []Option{{"windowsize", "0"}}, want: def},
		{name: "windowsize 65536 ignored", opts: []Option{{"windowsize", "65536"}}, want: def},
		{
			name:     "names case-insensitive, echoed as sent",
			opts:     []Option{{"BLKSIZE", "1000"}, {"TSize", "0"}, {"WindowSize", "4"}, {"TIMEOUT", "2"}},
			size:     77,
			want:     params{1000, 4, 2 * time.Second},
			wantOACK: []Option{{"BLKSIZE", "1000"}, {"TSize", "77"}, {"WindowSize", "4"}, {"TIMEOUT", "2"}},
		},
		{
			name:     "first of duplicates wins",
			opts:     []Option{{"blksize", "1000"}, {"BlkSize", "2000"}},
			want:     params{1000, 1, 3 * time.Second},
			wantOACK: []Option{{"blksize", "1000"}},
		},
		{
			name:     "mixed accepted and ignored, order kept",
			opts:     []Option{{"windowsize", "8"}, {"foo", "bar"}, {"timeout", "999"}, {"blksize", "1468"}},
			want:     params{1468, 8, 3 * time.Second},
			wantOACK: []Option{{"windowsize", "8"}, {"blksize", "1468"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, oack := negotiate(tt.opts, def, tt.size, 30*time.Second)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(params{})); diff != "" {
				t.Errorf("params mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOACK, oack); diff != "" {
				t.Errorf("OACK mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		mode         string
		wantNetascii bool
		wantErr      bool
	}{
		{"octet", false, false},
		{"OCTET", false, false},
		{"Octet", false, false},
		{"netascii", true, false},
		{"NetAscii", true, false},
		{"mail", false, true},
		{"binary", false, true},
		{"", false, true},
	}
	for _, tt := range tests {
		got, err := parseMode(tt.mode)
		if got != tt.wantNetascii || (err != nil) != tt.wantErr {
			t.Errorf("parseMode(%q) = %v, %v; want %v, error %v", tt.mode, got, err, tt.wantNetascii, tt.wantErr)
		}
	}
}
