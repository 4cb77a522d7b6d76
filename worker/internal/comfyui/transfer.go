package comfyui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
)

// Download is an open /view response: the caller streams Body and closes it.
type Download struct {
	Body     io.ReadCloser
	Size     int64 // -1 when ComfyUI sent no Content-Length
	MimeType string
}

// View opens the output file for streaming.
func (c *Client) View(ctx context.Context, f File) (*Download, error) {
	q := url.Values{"filename": {f.Filename}, "subfolder": {f.Subfolder}, "type": {f.Type}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/view", q), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, unreachable("/view "+f.Filename, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("comfyui /view %s: HTTP %d", f.Filename, resp.StatusCode)
	}
	mt := mime.TypeByExtension(path.Ext(f.Filename))
	if mt == "" {
		mt = resp.Header.Get("Content-Type")
	}
	if mt == "" {
		mt = "application/octet-stream"
	}
	return &Download{Body: resp.Body, Size: resp.ContentLength, MimeType: mt}, nil
}

// UploadImage streams r to POST /upload/image as multipart field "image" with
// overwrite=true, so the workflow can refer to the file by name. It returns the
// name ComfyUI stored the file under.
func (c *Client) UploadImage(ctx context.Context, filename string, r io.Reader) (string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	// readErr is set when the asset itself could not be read: that is the
	// download's failure, not ComfyUI's.
	var readErr error
	written := make(chan struct{})
	go func() {
		defer close(written)
		err := func() error {
			if err := mw.WriteField("overwrite", "true"); err != nil {
				return err
			}
			if err := mw.WriteField("type", "input"); err != nil {
				return err
			}
			part, err := mw.CreateFormFile("image", filename)
			if err != nil {
				return err
			}
			src := &sourceReader{r: r}
			if _, err := io.Copy(part, src); err != nil {
				if src.err != nil {
					readErr = fmt.Errorf("read asset %s: %w", filename, src.err)
					return readErr
				}
				return err // the request side closed the pipe
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/upload/image", nil), pr)
	if err != nil {
		pr.CloseWithError(err)
		<-written
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		pr.CloseWithError(err)
		<-written
		if readErr != nil {
			return "", readErr
		}
		return "", unreachable("/upload/image "+filename, err)
	}
	defer resp.Body.Close()
	var out struct {
		Name string `json:"name"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("comfyui /upload/image %s: HTTP %d", filename, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return "", fmt.Errorf("comfyui /upload/image %s: decode reply: %w", filename, err)
	}
	return out.Name, nil
}

// sourceReader remembers an error of the reader it wraps, so a failed read of
// the asset is told apart from a failed write to ComfyUI.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}
